import SegCore
import SegNN

/// Promptable models (classical graph cut, SAM, MobileSAM) behind one protocol; see ARCHITECTURE.md.
public enum SegModels {}
