import CBLAS

/// Float32 tensors and the operations SAM-family networks need, on OpenBLAS.
public enum SegNN {
    /// The OpenBLAS build in use (cores, kernel), for `segterm doctor`-style reports.
    public static var blasConfiguration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }
}
