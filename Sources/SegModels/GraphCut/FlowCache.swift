import Synchronization

/// The residual graph of the last cut on an image, kept with the prepared image so the next
/// click's cut starts from that flow instead of from zero: a click changes the energy locally
/// (its hard constraint, the colour models a little), so most of the old flow is still feasible
/// and the warm solve needs a fraction of the augmentations. The minimum cut found does not depend
/// on where the flow started, so reuse changes the speed, not the answer.
final class FlowCache: Sendable {
    /// A solver with what its capacities were set to, owned by whoever took it from the cache.
    struct Entry: @unchecked Sendable {
        // MaxFlowSolver is a class with raw buffers; an entry is only ever held by one thread
        // (take removes it, put returns it), which is what makes passing it across threads safe.
        let solver: MaxFlowSolver
        /// The terminal difference each node was given (before flow).
        var terminalSet: [Float]
        /// Arcs currently at the star-convexity "infinite" capacity.
        var infiniteArcs: [Int32]
    }

    private let entry = Mutex<Entry?>(nil)

    init() {}

    /// Takes the entry out (nil if none, or if another click holds it right now).
    func take() -> Entry? {
        entry.withLock { stored in
            let e = stored
            stored = nil
            return e
        }
    }

    func put(_ e: Entry) {
        entry.withLock { $0 = e }
    }
}
