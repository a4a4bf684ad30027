import SegCore

extension GraphCutSegmenter.Configuration {
    /// The settings `--model grabcut:key=value,…` may change, for measuring one setting against
    /// another without a rebuild. Unknown keys and bad values are refused.
    public static let optionKeys = ["working-pixels", "coarse-pixels", "band", "components", "iterations", "lambda",
                                    "covariance-floor", "click-radius", "initial-radius", "star", "geodesic-color", "samples", "warm",
                                    "connected", "click-prior", "click-reach", "scale-lambda"]

    public mutating func apply(options text: String) throws {
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let parts = item.split(separator: "=", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                throw SegError(.invalid, file: "grabcut", "model option \"\(item)\" is not key=value")
            }
            let key = parts[0], value = parts[1]
            func number() throws -> Double {
                guard let v = Double(value), v.isFinite, v >= 0 else {
                    throw SegError(.invalid, file: "grabcut", "model option \(key) needs a non-negative number, not \"\(value)\"")
                }
                return v
            }
            func integer(_ range: ClosedRange<Int>) throws -> Int {
                guard let v = Int(value), range.contains(v) else {
                    throw SegError(.invalid, file: "grabcut", "model option \(key) needs an integer in \(range.lowerBound)…\(range.upperBound), not \"\(value)\"")
                }
                return v
            }
            switch key {
            case "working-pixels": maxWorkingPixels = try integer(1...100_000_000)
            case "components": components = try integer(1...16)
            case "iterations": iterations = try integer(1...50)
            case "lambda": lambda = Float(try number())
            case "covariance-floor": covarianceFloor = try number()
            case "click-radius": clickRadius = try number()
            case "initial-radius": initialRadius = try number()
            case "star": starConvexity = try integer(0...1) == 1
            case "geodesic-color": geodesicColor = Float(try number())
            case "samples": maxSamples = try integer(100...10_000_000)
            case "click-prior": clickPrior = Float(try number())
            case "click-reach": clickReach = Float(max(try number(), 1e-3))
            case "scale-lambda": scaleWithSize = try integer(0...1) == 1
            case "connected": connected = try integer(0...1) == 1
            case "warm": warmStart = try integer(0...1) == 1
            case "coarse-pixels": coarsePixels = try integer(0...100_000_000)
            case "band": band = try number()
            default:
                throw SegError(.invalid, file: "grabcut", "unknown model option \"\(key)\" (known: \(Self.optionKeys.joined(separator: ", ")))")
            }
        }
    }
}
