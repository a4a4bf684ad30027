/// One part of a job split over many processes (a Slurm array task, a Kubernetes Indexed Job pod):
/// shard `index` of `count`, 0-based. Items are assigned by a stable hash of their key (an image id or
/// file name), never by their position in a list, so every process agrees on the split whatever order
/// it listed the inputs in, the shards of any `count` are disjoint, and together they are the whole set.
public struct Shard: Sendable, Equatable, Hashable, CustomStringConvertible {
    public let index: Int
    public let count: Int

    /// The whole job in one process.
    public static let whole = Shard(uncheckedIndex: 0, count: 1)

    /// The largest shard count accepted: far above any array job, small enough that a typo is caught.
    public static let maxCount = 1_000_000

    public init(index: Int, count: Int) throws {
        guard count >= 1, count <= Shard.maxCount else {
            throw SegError(.invalid, file: "--shard", "the shard count must be between 1 and \(Shard.maxCount), not \(count)")
        }
        guard index >= 0, index < count else {
            throw SegError(.invalid, file: "--shard", "the shard index must be between 0 and \(count - 1) (0-based), not \(index)")
        }
        self.index = index
        self.count = count
    }

    private init(uncheckedIndex index: Int, count: Int) {
        self.index = index
        self.count = count
    }

    public var isWhole: Bool { count == 1 }

    /// "I/N", the form `--shard` takes and partial files record.
    public var description: String { "\(index)/\(count)" }

    /// Parses "I/N" (0-based index, e.g. "0/4" … "3/4").
    public static func parse(_ text: String) throws -> Shard {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count == 2, let index = Int(parts[0]), let count = Int(parts[1]) else {
            throw SegError(.invalid, file: "--shard", "expected I/N with a 0-based index, e.g. 0/4, not \"\(text)\"")
        }
        return try Shard(index: index, count: count)
    }

    // MARK: - The split

    /// Whether this shard owns the item with this key (an image's id or file name).
    public func contains(_ key: some StringProtocol) -> Bool {
        count == 1 || Shard.bucket(of: key, count: count) == index
    }

    /// Whether this shard owns the image with this numeric id (keyed by its decimal form, so an id
    /// and its file name never collide in meaning: callers pick one key kind per command).
    public func contains(id: Int) -> Bool { contains(String(id)) }

    /// The items this shard owns, in their given order.
    public func select<T>(_ items: [T], key: (T) -> String) -> [T] {
        count == 1 ? items : items.filter { contains(key($0)) }
    }

    /// The shard (0..<count) that owns `key`: FNV-1a over the UTF-8 bytes, SplitMix64's finaliser
    /// (FNV alone clusters similar names such as img_0001…img_9999), then Lamping and Veach's jump
    /// consistent hash, which is uniform over the shards and moves as few keys as possible when the
    /// count changes. Changing this function changes every split: `Shard.splitVersion` says which.
    public static func bucket(of key: some StringProtocol, count: Int) -> Int {
        guard count > 1 else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in key.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        hash = (hash ^ (hash >> 30)) &* 0xBF58_476D_1CE4_E5B9
        hash = (hash ^ (hash >> 27)) &* 0x94D0_49BB_1331_11EB
        hash ^= hash >> 31
        // Jump consistent hash (arXiv:1406.2294).
        var bucket: Int64 = -1
        var next: Int64 = 0
        while next < Int64(count) {
            bucket = next
            hash = hash &* 2_862_933_555_777_941_757 &+ 1
            next = Int64(Double(bucket + 1) * (Double(Int64(1) << 31) / Double((hash >> 33) + 1)))
        }
        return Int(bucket)
    }

    /// The version of `bucket(of:count:)`, recorded in partial results so shards written by
    /// different splits are never merged.
    public static let splitVersion = 1

    // MARK: - The scheduler's environment

    /// Environment variables read by `fromEnvironment`, documented for users in README "On a cluster".
    public enum Variable {
        public static let slurmTaskID = "SLURM_ARRAY_TASK_ID"
        public static let slurmTaskCount = "SLURM_ARRAY_TASK_COUNT"
        public static let slurmTaskMin = "SLURM_ARRAY_TASK_MIN"
        public static let slurmTaskMax = "SLURM_ARRAY_TASK_MAX"
        public static let slurmTaskStep = "SLURM_ARRAY_TASK_STEP"
        /// Set by Kubernetes in every pod of an Indexed Job (0-based).
        public static let kubernetesIndex = "JOB_COMPLETION_INDEX"
        /// The shard count for a Kubernetes Indexed Job (Kubernetes does not expose `completions`
        /// to the pod): set it to the Job's `completions`, or pass `--shard-count`.
        public static let shardCount = "SEGTERM_SHARD_COUNT"
    }

    /// The shard the scheduler gave this process: a Slurm array task or a Kubernetes Indexed Job pod.
    /// `count` (from `--shard-count`) overrides the count the environment gives. Returns nil when
    /// neither scheduler's index is set.
    ///
    /// Slurm: the index is the task's position in the array, `(SLURM_ARRAY_TASK_ID - MIN) / STEP`
    /// (so `--array=1-8` and `--array=0-14:2` work), the count `SLURM_ARRAY_TASK_COUNT`, or
    /// `(MAX - MIN) / STEP + 1`. An array with gaps (`--array=0,3,7`) has no such position: it is
    /// refused unless `count` is given, in which case the task id itself is the index.
    public static func fromEnvironment(_ environment: [String: String], count: Int? = nil) throws -> Shard? {
        func number(_ name: String) throws -> Int? {
            guard let text = environment[name], !text.isEmpty else { return nil }
            guard let value = Int(text.trimmingWhitespace()) else {
                throw SegError(.invalid, file: name, "expected a whole number, not \"\(text)\"")
            }
            return value
        }
        if let taskID = try number(Variable.slurmTaskID) {
            if let count { return try located(Shard(index: taskID, count: count), from: Variable.slurmTaskID) }
            let minimum = try number(Variable.slurmTaskMin) ?? 0
            let step = try number(Variable.slurmTaskStep) ?? 1
            guard step >= 1 else { throw SegError(.invalid, file: Variable.slurmTaskStep, "the step must be positive, not \(step)") }
            let offset = taskID - minimum
            guard offset >= 0, offset % step == 0 else {
                throw SegError(.invalid, file: Variable.slurmTaskID,
                               "task \(taskID) is not on the array's grid (min \(minimum), step \(step)): pass --shard I/N or --shard-count")
            }
            let slurmCount: Int
            if let maximum = try number(Variable.slurmTaskMax) {
                slurmCount = (maximum - minimum) / step + 1
                if let given = try number(Variable.slurmTaskCount), given != slurmCount {
                    throw SegError(.invalid, file: Variable.slurmTaskCount,
                                   "the array has gaps (\(given) tasks between \(minimum) and \(maximum)): pass --shard-count with the task ids 0…N-1")
                }
            } else if let given = try number(Variable.slurmTaskCount) {
                slurmCount = given
            } else {
                throw SegError(.invalid, file: Variable.slurmTaskID,
                               "set, but neither \(Variable.slurmTaskCount) nor \(Variable.slurmTaskMax) is: pass --shard-count")
            }
            return try located(Shard(index: offset / step, count: slurmCount), from: Variable.slurmTaskID)
        }
        if let podIndex = try number(Variable.kubernetesIndex) {
            guard let count = try count ?? number(Variable.shardCount) else {
                throw SegError(.invalid, file: Variable.kubernetesIndex,
                               "set, but the shard count is not: pass --shard-count or set \(Variable.shardCount) to the Job's completions")
            }
            return try located(Shard(index: podIndex, count: count), from: Variable.kubernetesIndex)
        }
        return nil
    }

    /// The same shard error, naming the variable it came from rather than `--shard`.
    private static func located(_ make: @autoclosure () throws -> Shard, from variable: String) throws -> Shard {
        do { return try make() } catch let error as SegError { throw error.about(variable) }
    }
}

private extension String {
    func trimmingWhitespace() -> Substring {
        var slice = Substring(self)
        while let first = slice.first, first.isWhitespace { slice.removeFirst() }
        while let last = slice.last, last.isWhitespace { slice.removeLast() }
        return slice
    }
}

// MARK: - Merging

extension Shard {
    /// Checks that the parts of a sharded run (each file with the shard it holds) are shards 0..<N
    /// of one count, each exactly once; the errors name the offending file.
    public static func checkComplete(_ parts: [(file: String, shard: Shard)]) throws {
        guard let first = parts.first else { throw SegError(.invalid, file: "merge", "no shards given") }
        var seen = [String?](repeating: nil, count: first.shard.count)
        for part in parts {
            guard part.shard.count == first.shard.count else {
                throw SegError(.invalid, file: part.file,
                               "is shard \(part.shard), but \(first.file) is of \(first.shard.count) shards")
            }
            if let other = seen[part.shard.index] {
                throw SegError(.invalid, file: part.file, "shard \(part.shard) is given twice (also \(other))")
            }
            seen[part.shard.index] = part.file
        }
        let missing = seen.indices.filter { seen[$0] == nil }
        if let firstMissing = missing.first {
            let all = missing.map { "\($0)/\(first.shard.count)" }.joined(separator: ", ")
            throw SegError(.invalid, file: first.file, "shard \(firstMissing)/\(first.shard.count) is missing (missing: \(all))")
        }
    }
}
