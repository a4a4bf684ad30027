import SegConcurrency
import SegCore

/// The evaluation's work split over the machine's cores. It never starts more workers than there
/// are cores (other engines may run OpenBLAS threads beside it).
public enum Parallel {
    public static var coreCount: Int { Cores.online }

    /// `body(i)` for every i in 0..<count, results in index order, items handed out in blocks of
    /// `block` (see `ParallelFor.map`).
    public static func map<T: Sendable>(_ count: Int, workers: Int = coreCount, block: Int = 4,
                                        _ body: @Sendable (Int) throws(SegError) -> T) throws(SegError) -> [T] {
        try ParallelFor.map(count, workers: workers, block: block, body)
    }
}
