import CBLAS
import CKernels
#if canImport(Glibc)
import Glibc
import Synchronization
#endif

/// Float32 tensors and the operations SAM-family networks need, on OpenBLAS.
public enum SegNN {
    /// The OpenBLAS build in use (cores, kernel), for reports.
    public static var blasConfiguration: String {
        guard let text = openblas_get_config() else { return "unknown" }
        return String(cString: text)
    }

    /// The kernel family OpenBLAS picked for this CPU ("Haswell", "SkylakeX", …).
    public static var blasCoreName: String {
        guard let text = openblas_get_corename() else { return "unknown" }
        return String(cString: text)
    }

    /// The instruction set of the element-wise kernels ("avx512", "avx2", "portable", or "swift"
    /// when SEGTERM_KERNELS=swift turns the C kernels off), for reports.
    public static var kernelName: String { String(cString: ck_level_name()) }
}

/// A dense float32 tensor, row-major (C order) over contiguous storage.
public struct Tensor: Sendable, Equatable {
    /// Extent of each dimension, outermost first (e.g. `[C, H, W]`).
    public private(set) var shape: [Int]
    /// `shape.reduce(1, *)` values in C order.
    public var data: [Float]

    public init(shape: [Int], data: [Float]) {
        precondition(shape.allSatisfy { $0 >= 0 } && shape.reduce(1, *) == data.count, "Tensor: shape does not match data")
        self.shape = shape
        self.data = data
    }

    public init(zeros shape: [Int]) {
        self.init(shape: shape, data: [Float](repeating: 0, count: shape.reduce(1, *)))
    }

    public var count: Int { data.count }

    /// The same values under another shape with the same element count.
    public func reshaped(_ newShape: [Int]) -> Tensor { Tensor(shape: newShape, data: data) }

    /// Largest absolute value (0 for an empty tensor).
    public var maxAbs: Float { data.reduce(0) { max($0, abs($1)) } }
}

/// Memory for weights that never moves and never changes after loading: models read it through
/// raw pointers in their hot loops without the copy-on-write checks of arrays. Every tensor is a
/// copy (the checkpoint's mapped pages are released as they are copied, `StateDict.floats`).
public final class ParamStore: @unchecked Sendable {
    // @unchecked: written only while the model is being built (before it is shared), read-only after.
    private var blocks: [UnsafeMutablePointer<Float>] = []
    public private(set) var floatCount = 0

    public init() {}

    /// Copies `values` into stable memory owned by the store.
    public func add(_ values: [Float], shape: [Int]) -> Param {
        precondition(shape.reduce(1, *) == values.count, "ParamStore: shape does not match data")
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(values.count, 1))
        values.withUnsafeBufferPointer { src in
            if let base = src.baseAddress { p.initialize(from: base, count: values.count) }
        }
        blocks.append(p)
        floatCount += values.count
        return Param(pointer: UnsafePointer(p), shape: shape)
    }

    public func add(_ tensor: Tensor) -> Param { add(tensor.data, shape: tensor.shape) }

    deinit { for b in blocks { b.deallocate() } }
}

/// A read-only view of weights in a `ParamStore`; valid while the store lives (models keep theirs).
public struct Param: @unchecked Sendable {
    // @unchecked: points into immutable memory owned by a ParamStore that the holder keeps alive.
    public let pointer: UnsafePointer<Float>
    public let shape: [Int]
    public var count: Int { shape.reduce(1, *) }
    public subscript(i: Int) -> Float { pointer[i] }
    public var array: [Float] { Array(UnsafeBufferPointer(start: pointer, count: count)) }
}

/// Scratch memory a model reuses across calls: slots are allocated on first use and kept, so
/// a second image or click allocates nothing. One workspace serves one call at a time; models keep
/// a small pool (`WorkspacePool`) so concurrent callers each get their own.
public final class Workspace: @unchecked Sendable {
    // @unchecked: a workspace is only ever used by the one caller that checked it out of the pool.
    private var slots: [Int: (pointer: UnsafeMutablePointer<Float>, capacity: Int)] = [:]

    public init() {}

    /// A buffer of at least `count` floats for `slot`; the contents are whatever the last user left.
    public func buffer(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        if let s = slots[slot], s.capacity >= count { return s.pointer }
        if let s = slots[slot] { s.pointer.deallocate() }
        let p = UnsafeMutablePointer<Float>.allocate(capacity: max(count, 1))
        slots[slot] = (p, count)
        return p
    }

    /// A zero-filled buffer.
    public func zeros(_ slot: Int, _ count: Int) -> UnsafeMutablePointer<Float> {
        let p = buffer(slot, count)
        p.initialize(repeating: 0, count: count)
        return p
    }

    public var bytesHeld: Int { slots.values.reduce(0) { $0 + $1.capacity } * MemoryLayout<Float>.size }

    deinit { for s in slots.values { s.pointer.deallocate() } }
}

/// Hands out workspaces, one per concurrent caller, and takes them back.
public final class WorkspacePool: @unchecked Sendable {
    // @unchecked: a Workspace is not Sendable, but each is handed to one caller at a time.
    private let free = Mutex<[Workspace]>([])

    public init() {}

    public func with<R>(_ body: (Workspace) throws -> R) rethrows -> R {
        let ws = free.withLock { $0.popLast() } ?? Workspace()
        defer {
            // Keep at most two idle workspaces: the engine never runs more calls at once than cores.
            free.withLock { if $0.count < 2 { $0.append(ws) } }
        }
        return try body(ws)
    }
}

