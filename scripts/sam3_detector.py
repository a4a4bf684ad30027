"""SAM 3's detector (the text / exemplar path) built from the official `sam3==0.1.4` modules, as
`sam3/model_builder.py` builds it (`_create_transformer_encoder`, `_create_transformer_decoder`,
`_create_dot_product_scoring`, `_create_segmentation_head`, `_create_geometry_encoder`,
`_create_sam3_model`), with the widths, depths and query count as parameters so that
`make_sam3_fixture.py` can build a reduced copy for CI and the full-size one by hand.
"""
import torch


def full_dims():
    return dict(d=256, heads=8, ffn=2048, enc_layers=6, dec_layers=6, queries=200, geo_layers=3, resolution=1008, stride=14)


def reduced_dims():
    # Two heads everywhere (the head split is exercised), small FFNs, 2 encoder / decoder layers,
    # 12 queries so that a threshold keeps some and drops others.
    return dict(d=32, heads=2, ffn=48, enc_layers=2, dec_layers=2, queries=12, geo_layers=1, resolution=126, stride=14)


def build_detector(backbone, predictor, dims):
    from sam3.model.decoder import TransformerDecoder, TransformerDecoderLayer
    from sam3.model.encoder import TransformerEncoderFusion, TransformerEncoderLayer
    from sam3.model.geometry_encoders import SequenceGeometryEncoder
    from sam3.model.maskformer_segmentation import PixelDecoder, UniversalSegmentationHead
    from sam3.model.model_misc import DotProductScoring, MLP, MultiheadAttentionWrapper as MHA, TransformerWrapper
    from sam3.model.position_encoding import PositionEmbeddingSine
    from sam3.model.sam3_image import Sam3Image

    d, h, f = dims["d"], dims["heads"], dims["ffn"]
    enc_layer = TransformerEncoderLayer(
        activation="relu", d_model=d, dim_feedforward=f, dropout=0.1, pos_enc_at_attn=True,
        pos_enc_at_cross_attn_keys=False, pos_enc_at_cross_attn_queries=False, pre_norm=True,
        self_attention=MHA(num_heads=h, dropout=0.1, embed_dim=d, batch_first=True),
        cross_attention=MHA(num_heads=h, dropout=0.1, embed_dim=d, batch_first=True))
    encoder = TransformerEncoderFusion(layer=enc_layer, num_layers=dims["enc_layers"], d_model=d, num_feature_levels=1,
                                       frozen=False, use_act_checkpoint=True, add_pooled_text_to_img_feat=False,
                                       pool_text_with_mask=True)
    dec_layer = TransformerDecoderLayer(
        activation="relu", d_model=d, dim_feedforward=f, dropout=0.1,
        cross_attention=MHA(num_heads=h, dropout=0.1, embed_dim=d), n_heads=h, use_text_cross_attention=True)
    decoder = TransformerDecoder(layer=dec_layer, num_layers=dims["dec_layers"], num_queries=dims["queries"],
                                 return_intermediate=True, box_refine=True, num_o2m_queries=0, dac=True, boxRPB="log",
                                 d_model=d, frozen=False, interaction_layer=None, dac_use_selfatt_ln=True,
                                 resolution=dims["resolution"], stride=dims["stride"], use_act_checkpoint=True,
                                 presence_token=True)
    transformer = TransformerWrapper(encoder=encoder, decoder=decoder, d_model=d)
    scoring = DotProductScoring(d_model=d, d_proj=d, prompt_mlp=MLP(input_dim=d, hidden_dim=f, output_dim=d, num_layers=2,
                                                                     dropout=0.1, residual=True, out_norm=torch.nn.LayerNorm(d)))
    seg = UniversalSegmentationHead(hidden_dim=d, upsampling_stages=3, aux_masks=False, presence_head=False,
                                    dot_product_scorer=None, act_ckpt=True,
                                    cross_attend_prompt=MHA(num_heads=h, dropout=0, embed_dim=d),
                                    pixel_decoder=PixelDecoder(num_upsampling_stages=3, interpolation_mode="nearest",
                                                               hidden_dim=d))
    geo_layer = TransformerEncoderLayer(
        activation="relu", d_model=d, dim_feedforward=f, dropout=0.1, pos_enc_at_attn=False, pre_norm=True,
        self_attention=MHA(num_heads=h, dropout=0.1, embed_dim=d, batch_first=False),
        pos_enc_at_cross_attn_queries=False, pos_enc_at_cross_attn_keys=True,
        cross_attention=MHA(num_heads=h, dropout=0.1, embed_dim=d, batch_first=False))
    geo = SequenceGeometryEncoder(
        pos_enc=PositionEmbeddingSine(num_pos_feats=d, normalize=True, scale=None, temperature=10000),
        encode_boxes_as_points=False, points_direct_project=True, points_pool=True, points_pos_enc=True,
        boxes_direct_project=True, boxes_pool=True, boxes_pos_enc=True, d_model=d, num_layers=dims["geo_layers"],
        layer=geo_layer, use_act_ckpt=True, add_cls=True, add_post_encode_proj=True)
    return Sam3Image(backbone=backbone, transformer=transformer, input_geometry_encoder=geo, segmentation_head=seg,
                     num_feature_levels=1, o2m_mask_predict=True, dot_prod_scoring=scoring, use_instance_query=False,
                     multimask_output=True, inst_interactive_predictor=predictor, matcher=None)
