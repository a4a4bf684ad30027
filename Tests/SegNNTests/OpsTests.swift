import Foundation
import Testing
@testable import SegNN

/// Each op against PyTorch / the official SAM and MobileSAM modules (scripts/make_nn_fixtures.py).
@Suite("SegNN ops against PyTorch")
struct OpsTests {
    @Test("OpenBLAS is linked and reports its configuration")
    func blas() { #expect(!SegNN.blasConfiguration.isEmpty) }

    @Test("linear (cblas_sgemm) = F.linear")
    func linear() throws {
        let x = try Fixture.tensor("linear", "x"), w = try Fixture.tensor("linear", "w"), b = try Fixture.tensor("linear", "b")
        let y = output(15) { o in x.data.withPointer { xp in w.data.withPointer { wp in b.data.withPointer { bp in
            Gemm.linear(xp, rows: 5, inFeatures: 7, weight: wp, bias: bp, outFeatures: 3, o) } } } }
        expectClose(y, try Fixture.tensor("linear", "y"), "linear")
    }

    @Test("conv2d (1×1 GEMM, k×k im2col, stride, padding) = F.conv2d", arguments: ["conv3x3s2", "conv1x1", "conv2x2s2", "conv3x3s1"])
    func conv(name: String) throws {
        let x = try Fixture.tensor(name, "x"), w = try Fixture.tensor(name, "w"), b = try Fixture.tensor(name, "b")
        let ref = try Fixture.tensor(name, "y")
        let g = Conv.Geometry(inChannels: x.shape[1], outChannels: w.shape[0], kernel: try Fixture.int(name, "k"),
                              stride: try Fixture.int(name, "stride"), padding: try Fixture.int(name, "pad"), height: x.shape[2], width: x.shape[3])
        #expect([1, g.outChannels, g.outHeight, g.outWidth] == ref.shape)
        var scratch = [Float](repeating: 0, count: max(Conv.scratchCount(g), 1))
        let y = output(ref.count) { o in x.data.withPointer { xp in w.data.withPointer { wp in b.data.withPointer { bp in
            scratch.withUnsafeMutableBufferPointer { s in Conv.conv2d(xp, g, weight: wp, bias: bp, o, scratch: s.baseAddress) } } } } }
        expectClose(y, ref, name)
    }

    @Test("depthwise conv, NCHW and channels-last = F.conv2d(groups=C)", arguments: ["depthwise_s1", "depthwise_s2"])
    func depthwise(name: String) throws {
        let x = try Fixture.tensor(name, "x"), w = try Fixture.tensor(name, "w"), b = try Fixture.tensor(name, "b")
        let ref = try Fixture.tensor(name, "y")
        let s = try Fixture.int(name, "stride")
        let y = output(ref.count) { o in x.data.withPointer { xp in w.data.withPointer { wp in b.data.withPointer { bp in
            Conv.depthwise(xp, channels: 5, height: 8, width: 9, kernel: 3, stride: s, padding: 1, weight: wp, bias: bp, o) } } } }
        expectClose(y, ref, name)
        guard s == 1 else { return }
        // Channels-last: tokens [H·W, C], weight [k·k, C].
        var tokens = [Float](repeating: 0, count: 5 * 72), wkc = [Float](repeating: 0, count: 45)
        for c in 0..<5 { for p in 0..<72 { tokens[p * 5 + c] = x.data[c * 72 + p] }; for t in 0..<9 { wkc[t * 5 + c] = w.data[c * 9 + t] } }
        let yt = output(5 * 72) { o in tokens.withPointer { xp in wkc.withPointer { wp in b.data.withPointer { bp in
            Conv.depthwiseChannelsLast(xp, channels: 5, height: 8, width: 9, kernel: 3, padding: 1, weightKC: wp, bias: bp, o) } } } }
        var back = [Float](repeating: 0, count: 5 * 72)
        for c in 0..<5 { for p in 0..<72 { back[c * 72 + p] = yt[p * 5 + c] } }
        expectClose(back, ref, "channels-last depthwise")
    }

    @Test("transposed conv 2×2 stride 2 = F.conv_transpose2d")
    func transposed() throws {
        let x = try Fixture.tensor("conv_transpose2x2", "x"), w = try Fixture.tensor("conv_transpose2x2", "w"), b = try Fixture.tensor("conv_transpose2x2", "b")
        var scratch = [Float](repeating: 0, count: 3 * 4 * 20)
        let y = output(3 * 8 * 10) { o in x.data.withPointer { xp in w.data.withPointer { wp in b.data.withPointer { bp in
            scratch.withUnsafeMutableBufferPointer { s in
                Conv.transposed2x2(xp, inChannels: 6, outChannels: 3, height: 4, width: 5, weight: wp, bias: bp, o, scratch: s.baseAddress!) } } } } }
        expectClose(y, try Fixture.tensor("conv_transpose2x2", "y"), "conv_transpose2d")
    }

    @Test("LayerNorm and LayerNorm2d")
    func norms() throws {
        let x = try Fixture.tensor("layer_norm", "x"), w = try Fixture.tensor("layer_norm", "w"), b = try Fixture.tensor("layer_norm", "b")
        let y = output(40) { o in x.data.withPointer { xp in w.data.withPointer { wp in b.data.withPointer { bp in
            Norm.layerNorm(xp, o, rows: 4, dim: 10, weight: wp, bias: bp, eps: 1e-5) } } } }
        expectClose(y, try Fixture.tensor("layer_norm", "y"), "layer_norm")
        let x2 = try Fixture.tensor("layer_norm2d", "x"), w2 = try Fixture.tensor("layer_norm2d", "w"), b2 = try Fixture.tensor("layer_norm2d", "b")
        var v = x2.data
        v.withUnsafeMutableBufferPointer { p in w2.data.withPointer { wp in b2.data.withPointer { bp in
            Norm.layerNorm2d(p.baseAddress!, channels: 6, pixels: 20, weight: wp, bias: bp, eps: 1e-6) } } }
        expectClose(v, try Fixture.tensor("layer_norm2d", "y"), "layer_norm2d")
    }

    @Test("BatchNorm folded into the conv = TinyViT Conv2d_BN in eval mode")
    func convBN() throws {
        let n = "conv_bn"
        let x = try Fixture.tensor(n, "x"), w = try Fixture.tensor(n, "w")
        let folded = Norm.foldBatchNorm(weight: w.data, bias: nil, outChannels: 4, gamma: try Fixture.tensor(n, "gamma").data,
                                        beta: try Fixture.tensor(n, "beta").data, mean: try Fixture.tensor(n, "mean").data,
                                        variance: try Fixture.tensor(n, "var").data, eps: 1e-5)
        let g = Conv.Geometry(inChannels: 3, outChannels: 4, kernel: 3, stride: 1, padding: 1, height: 5, width: 6)
        var scratch = [Float](repeating: 0, count: Conv.scratchCount(g))
        let y = output(4 * 30) { o in x.data.withPointer { xp in folded.weight.withPointer { wp in folded.bias.withPointer { bp in
            scratch.withUnsafeMutableBufferPointer { Conv.conv2d(xp, g, weight: wp, bias: bp, o, scratch: $0.baseAddress) } } } } }
        expectClose(y, try Fixture.tensor(n, "y"), "conv + batchnorm")
    }

    @Test("GELU (exact erf form) and max-subtracted softmax")
    func activations() throws {
        var x = try Fixture.tensor("gelu", "x").data
        x.withUnsafeMutableBufferPointer { Elementwise.gelu($0.baseAddress!, $0.count) }
        // The erf approximation is within 1.5e-7; GELU multiplies that by x/2, so allow 1e-6.
        expectClose(x, try Fixture.tensor("gelu", "y"), atol: 1e-6, rtol: 1e-6, "gelu")
        var s = try Fixture.tensor("softmax", "x").data
        s.withUnsafeMutableBufferPointer { Elementwise.softmaxRows($0.baseAddress!, rows: 3, cols: 4, ld: 4) }
        expectClose(s, try Fixture.tensor("softmax", "y"), atol: 1e-7, rtol: 1e-6, "softmax")
        #expect(s.allSatisfy { $0.isFinite })
    }

    @Test("multi-head attention with the SAM decoder's downsampled internal dimension")
    func decoderAttention() throws {
        let n = "decoder_attention"
        func p(_ f: String) throws -> [Float] { try Fixture.tensor(n, f).data }
        let q = try p("q"), k = try p("k"), v = try p("v")
        let (qw, qb, kw, kb, vw, vb, ow, ob) = (try p("q_proj_weight"), try p("q_proj_bias"), try p("k_proj_weight"), try p("k_proj_bias"),
                                                try p("v_proj_weight"), try p("v_proj_bias"), try p("out_proj_weight"), try p("out_proj_bias"))
        let inner = 8, heads = 2
        let qp = output(5 * inner) { o in q.withPointer { x in qw.withPointer { w in qb.withPointer { b in Gemm.linear(x, rows: 5, inFeatures: 16, weight: w, bias: b, outFeatures: inner, o) } } } }
        let kp = output(9 * inner) { o in k.withPointer { x in kw.withPointer { w in kb.withPointer { b in Gemm.linear(x, rows: 9, inFeatures: 16, weight: w, bias: b, outFeatures: inner, o) } } } }
        let vp = output(9 * inner) { o in v.withPointer { x in vw.withPointer { w in vb.withPointer { b in Gemm.linear(x, rows: 9, inFeatures: 16, weight: w, bias: b, outFeatures: inner, o) } } } }
        var scratch = [Float](repeating: 0, count: Attention.scratchCount(queries: 5, keys: 9))
        let att = output(5 * inner) { o in qp.withPointer { qq in kp.withPointer { kk in vp.withPointer { vv in scratch.withUnsafeMutableBufferPointer { s in
            Attention.multiHead(q: qq, ldq: inner, k: kk, ldk: inner, v: vv, ldv: inner, queries: 5, keys: 9, heads: heads, headDim: 4, valueDim: 4,
                                scale: 0.5, out: o, ldo: inner, scratch: s.baseAddress!) } } } } }
        let y = output(5 * 16) { o in att.withPointer { x in ow.withPointer { w in ob.withPointer { b in Gemm.linear(x, rows: 5, inFeatures: inner, weight: w, bias: b, outFeatures: 16, o) } } } }
        expectClose(y, try Fixture.tensor(n, "y"), "decoder attention")
    }

    @Test("window partition / unpartition with padding = segment_anything's")
    func windows() throws {
        let x = try Fixture.tensor("window_partition", "x")  // [5, 7, 3]
        let w = Attention.Windows(height: 5, width: 7, size: 3)
        let win = output(w.totalTokens * 3) { o in x.data.withPointer { Attention.partition($0, channels: 3, w, o) } }
        expectClose(win, try Fixture.tensor("window_partition", "windows"), atol: 0, rtol: 0, "partition")
        let twice = win.map { $0 * 2 }
        let back = output(5 * 7 * 3) { o in twice.withPointer { Attention.unpartition($0, channels: 3, w, o, accumulate: false) } }
        expectClose(back, try Fixture.tensor("window_partition", "unpartition_of_twice"), atol: 0, rtol: 0, "unpartition")
    }

    @Test("decomposed relative positions = add_decomposed_rel_pos")
    func relPos() throws {
        let q = try Fixture.tensor("rel_pos", "q"), attn = try Fixture.tensor("rel_pos", "attn")
        let rh = try Fixture.tensor("rel_pos", "rel_h"), rw = try Fixture.tensor("rel_pos", "rel_w")
        let n = 20, dim = 6
        var s = attn.data
        var proj = [Float](repeating: 0, count: n * (7 + 9))
        for b in 0..<2 {
            s.withUnsafeMutableBufferPointer { sp in q.data.withPointer { qp in rh.data.withPointer { hp in rw.data.withPointer { wp in
                proj.withUnsafeMutableBufferPointer { pp in
                    // Two blocks of query rows, to check the row offset too.
                    Attention.addRelativePositions(q: qp + b * n * dim, ldq: dim, row0: 0, rows: 7, dim: dim, height: 4, width: 5, relH: hp, relW: wp,
                                                   scores: sp.baseAddress! + b * n * n, ld: n, proj: pp.baseAddress!)
                    Attention.addRelativePositions(q: qp + b * n * dim, ldq: dim, row0: 7, rows: 13, dim: dim, height: 4, width: 5, relH: hp, relW: wp,
                                                   scores: sp.baseAddress! + b * n * n + 7 * n, ld: n, proj: pp.baseAddress!)
                } } } } }
        }
        expectClose(s, try Fixture.tensor("rel_pos", "y"), "relative positions")
    }

    @Test("TinyViT attention-bias table = the module's cached `ab`")
    func tinyViTBias() throws {
        let b = try Fixture.tensor("tinyvit_bias", "biases")
        let table = Attention.tinyViTBiasTable(biases: b.data, heads: 2, windowSize: 3)
        expectClose(table, try Fixture.tensor("tinyvit_bias", "table"), atol: 0, rtol: 0, "bias table")
    }

    @Test("bilinear resize, align_corners=False, up and down = F.interpolate")
    func bilinear() throws {
        let up = try Fixture.tensor("bilinear_up", "x")
        let y = output(2 * 13 * 11) { o in up.data.withPointer {
            Interpolate.bilinear($0, channels: 2, inHeight: 5, inWidth: 7, inRowStride: 7, inPlaneStride: 35, outHeight: 13, outWidth: 11, o) } }
        expectClose(y, try Fixture.tensor("bilinear_up", "y"), "bilinear up")
        let down = try Fixture.tensor("bilinear_down", "x")
        let z = output(2 * 4 * 6) { o in down.data.withPointer {
            Interpolate.bilinear($0, channels: 2, inHeight: 13, inWidth: 11, inRowStride: 11, inPlaneStride: 143, outHeight: 4, outWidth: 6, o) } }
        expectClose(z, try Fixture.tensor("bilinear_down", "y"), "bilinear down")
        // A crop of the result is the same as cropping the full result.
        let crop = output(2 * 9 * 5) { o in up.data.withPointer {
            Interpolate.bilinear($0, channels: 2, inHeight: 5, inWidth: 7, inRowStride: 7, inPlaneStride: 35, outHeight: 13, outWidth: 11, o, cropHeight: 9, cropWidth: 5) } }
        var expected: [Float] = []
        for c in 0..<2 { for r in 0..<9 { for col in 0..<5 { expected.append(y[c * 143 + r * 11 + col]) } } }
        #expect(crop == expected)
    }

    @Test("random Fourier positional encoding: dense grid and points")
    func fourier() throws {
        let g = try Fixture.tensor("fourier", "gaussian")  // [2, 8]
        let grid = g.data.withPointer { Interpolate.denseFourierGrid(height: 5, width: 6, gaussian: $0, features: 8) }  // [30, 16]
        let ref = try Fixture.tensor("fourier", "grid")  // [16, 5, 6]
        var chw = [Float](repeating: 0, count: 16 * 30)
        for p in 0..<30 { for c in 0..<16 { chw[c * 30 + p] = grid[p * 16 + c] } }
        expectClose(chw, ref, atol: 2e-6, rtol: 0, "dense PE")
        let coords = try Fixture.tensor("fourier", "coords")
        var pts: [Float] = []
        for i in 0..<3 {
            pts += output(16) { o in g.data.withPointer {
                Interpolate.fourierFeatures(x: coords.data[2 * i] / 1024, y: coords.data[2 * i + 1] / 1024, gaussian: $0, features: 8, o) } }
        }
        expectClose(pts, try Fixture.tensor("fourier", "points"), atol: 2e-6, rtol: 0, "point PE")
    }

    @Test("workspace buffers are reused, not reallocated, across calls")
    func workspace() {
        let ws = Workspace()
        let a = ws.buffer(1, 100)
        let b = ws.buffer(1, 50)
        #expect(a == b)
        #expect(ws.bytesHeld == 400)
        let pool = WorkspacePool()
        let first = pool.with { ObjectIdentifier($0) }
        let second = pool.with { ObjectIdentifier($0) }
        #expect(first == second)
    }
}
