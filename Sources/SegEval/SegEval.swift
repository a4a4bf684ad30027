import SegCore

/// Every metric lives here (instance, semantic, panoptic, binary, interactive); see ARCHITECTURE.md.
public enum SegEval {}
