/// A restricted unpickler for PyTorch state dicts, safe by construction: it is an interpreter
/// for the data-building subset of the pickle machine (protocols 2–5) and nothing else. Every
/// callable it will "call" is one of the whitelisted names below, each implemented here as a pure
/// data constructor; any other global, opcode or persistent id stops the load with an error. It
/// never imports, never evaluates, never instantiates arbitrary classes — unlike `torch.load`.
public enum Pickle {
    /// The only globals a state dict needs.
    public enum Global: Equatable, Sendable {
        case orderedDict            // collections.OrderedDict
        case rebuildTensorV2        // torch._utils._rebuild_tensor_v2
        case rebuildParameter       // torch._utils._rebuild_parameter
        case storage(DType)         // torch.FloatStorage, HalfStorage, BFloat16Storage, DoubleStorage, LongStorage, IntStorage, ComplexFloatStorage

        static func named(module: String, name: String) -> Global? {
            switch (module, name) {
            case ("collections", "OrderedDict"): .orderedDict
            case ("torch._utils", "_rebuild_tensor_v2"): .rebuildTensorV2
            case ("torch._utils", "_rebuild_parameter"): .rebuildParameter
            case ("torch", "FloatStorage"): .storage(.float32)
            case ("torch", "HalfStorage"): .storage(.float16)
            case ("torch", "BFloat16Storage"): .storage(.bfloat16)
            case ("torch", "DoubleStorage"): .storage(.float64)
            case ("torch", "LongStorage"): .storage(.int64)
            case ("torch", "IntStorage"): .storage(.int32)
            case ("torch", "ComplexFloatStorage"): .storage(.complex64)
            default: nil
            }
        }
    }

    public struct StorageRef: Equatable, Sendable {
        public let dtype: DType
        public let key: String
        public let count: Int
    }

    public struct TensorRef: Equatable, Sendable {
        public let storage: StorageRef
        public let offset: Int
        public let shape: [Int]
        public let strides: [Int]
    }

    /// Containers that opcodes mutate in place (SETITEMS, APPENDS) and the memo may share.
    public final class DictBox {
        public var items: [(Value, Value)] = []
    }

    public final class ListBox {
        public var items: [Value] = []
    }

    public indirect enum Value {
        case none
        case bool(Bool)
        case int(Int)
        case float(Double)
        case string(String)
        case bytes(Int)  // only the length: state dicts never need byte payloads
        case tuple([Value])
        case list(ListBox)
        case dict(DictBox)
        case global(Global)
        case storage(StorageRef)
        case tensor(TensorRef)

        var asInt: Int? { if case .int(let v) = self { v } else if case .bool(let b) = self { b ? 1 : 0 } else { nil } }
        var asString: String? { if case .string(let s) = self { s } else { nil } }
        var asTuple: [Value]? {
            switch self {
            case .tuple(let t): t
            case .list(let l): l.items
            default: nil
            }
        }
    }

    /// Interprets `bytes`; errors name `file`.
    public static func load(_ bytes: UnsafeRawBufferPointer, file: String) throws(CheckpointError) -> Value {
        var m = Machine(bytes: bytes, file: file)
        return try m.run()
    }

    private enum Item {
        case value(Value)
        case mark
    }

    private struct Machine {
        let bytes: UnsafeRawBufferPointer
        let file: String
        var pos = 0
        var stack: [Item] = []
        var memo: [Int: Value] = [:]

        // Bounds on what a hostile file can make us hold; a real state dict is far below them.
        static let maxStack = 1 << 20
        static let maxMemo = 1 << 22

        init(bytes: UnsafeRawBufferPointer, file: String) { self.bytes = bytes; self.file = file }

        func fail(_ why: String) -> CheckpointError { CheckpointError(.corrupt, file: file, "data.pkl: \(why)") }
        func refuse(_ why: String) -> CheckpointError { CheckpointError(.refused, file: file, "data.pkl: \(why)") }

        mutating func byte() throws(CheckpointError) -> UInt8 {
            guard pos < bytes.count else { throw CheckpointError(.truncated, file: file, "data.pkl ends before its STOP opcode") }
            defer { pos += 1 }
            return bytes[pos]
        }

        mutating func take(_ n: Int) throws(CheckpointError) -> UnsafeRawBufferPointer {
            guard n >= 0, let end = checkedAdd(pos, n), end <= bytes.count else {
                throw CheckpointError(.truncated, file: file, "data.pkl ends inside an opcode argument")
            }
            defer { pos = end }
            return UnsafeRawBufferPointer(rebasing: bytes[pos..<end])
        }

        mutating func uint(_ n: Int) throws(CheckpointError) -> Int {
            let b = try take(n)
            var v: UInt64 = 0
            for i in 0..<n { v |= UInt64(b[i]) << (8 * UInt64(i)) }
            guard v <= UInt64(Int.max) else { throw fail("length out of range") }
            return Int(v)
        }

        mutating func line() throws(CheckpointError) -> String {
            var s: [UInt8] = []
            while true {
                let c = try byte()
                if c == 0x0A { break }
                s.append(c)
                if s.count > 256 { throw fail("GLOBAL name too long") }
            }
            return String(decoding: s, as: UTF8.self)
        }

        mutating func push(_ v: Value) throws(CheckpointError) {
            guard stack.count < Machine.maxStack else { throw refuse("stack deeper than \(Machine.maxStack)") }
            stack.append(.value(v))
        }

        mutating func pop() throws(CheckpointError) -> Value {
            guard let top = stack.popLast() else { throw fail("stack underflow") }
            guard case .value(let v) = top else { throw fail("unexpected MARK") }
            return v
        }

        func top() throws(CheckpointError) -> Value {
            guard let t = stack.last, case .value(let v) = t else { throw fail("stack underflow") }
            return v
        }

        /// Pops everything above the topmost MARK, and the MARK.
        mutating func popToMark() throws(CheckpointError) -> [Value] {
            var out: [Value] = []
            while let t = stack.popLast() {
                switch t {
                case .mark: return out.reversed()
                case .value(let v): out.append(v)
                }
            }
            throw fail("MARK missing")
        }

        mutating func memoize(_ index: Int, _ v: Value) throws(CheckpointError) {
            guard memo.count < Machine.maxMemo || memo[index] != nil else { throw refuse("memo larger than \(Machine.maxMemo)") }
            memo[index] = v
        }

        func setItems(_ target: Value, _ kv: [Value]) throws(CheckpointError) {
            guard case .dict(let d) = target else { throw refuse("SETITEM(S) on a non-dict") }
            guard kv.count % 2 == 0 else { throw fail("odd SETITEMS") }
            var i = 0
            while i < kv.count {
                d.items.append((kv[i], kv[i + 1]))
                i += 2
            }
        }

        mutating func global(module: String, name: String) throws(CheckpointError) -> Value {
            guard let g = Global.named(module: module, name: name) else {
                throw refuse("refusing global \(module).\(name): only collections.OrderedDict, torch._utils._rebuild_tensor_v2/_rebuild_parameter and torch.*Storage are allowed in a state dict")
            }
            return .global(g)
        }

        mutating func reduce(_ callable: Value, _ args: Value) throws(CheckpointError) -> Value {
            guard case .global(let g) = callable else { throw refuse("REDUCE on something that is not a whitelisted global") }
            guard let a = args.asTuple else { throw fail("REDUCE arguments are not a tuple") }
            switch g {
            case .orderedDict:
                guard a.isEmpty else { throw refuse("OrderedDict with arguments") }
                return .dict(DictBox())
            case .rebuildTensorV2:
                guard a.count >= 4, case .storage(let s) = a[0], let offset = a[1].asInt,
                      let sizes = a[2].asTuple?.compactMap(\.asInt), let strides = a[3].asTuple?.compactMap(\.asInt),
                      sizes.count == a[2].asTuple?.count, strides.count == a[3].asTuple?.count else {
                    throw fail("bad _rebuild_tensor_v2 arguments")
                }
                return .tensor(TensorRef(storage: s, offset: offset, shape: sizes, strides: strides))
            case .rebuildParameter:
                guard let first = a.first, case .tensor = first else { throw fail("bad _rebuild_parameter arguments") }
                return first
            case .storage:
                throw refuse("storage types are not callable")
            }
        }

        mutating func persistentLoad(_ pid: Value) throws(CheckpointError) -> Value {
            guard let t = pid.asTuple, t.count == 5, t[0].asString == "storage", case .global(.storage(let dtype)) = t[1],
                  let key = t[2].asString, let count = t[4].asInt, count >= 0 else {
                throw refuse("persistent id is not a ('storage', torch.*Storage, key, location, count) tuple")
            }
            guard !key.isEmpty, key.utf8.allSatisfy({ ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x5F }) else {
                throw refuse("storage key \"\(key)\" is not a plain name")
            }
            return .storage(StorageRef(dtype: dtype, key: key, count: count))
        }

        mutating func run() throws(CheckpointError) -> Value {
            while true {
                let op = try byte()
                switch op {
                case 0x80: // PROTO
                    let v = try byte()
                    guard v <= 5 else { throw CheckpointError(.unsupported, file: file, "data.pkl: pickle protocol \(v)") }
                case 0x95: _ = try uint(8)                      // FRAME (a hint; data follows inline)
                case 0x2E: return try pop()                      // STOP
                case 0x28: stack.append(.mark)                   // MARK
                case 0x29: try push(.tuple([]))                  // EMPTY_TUPLE
                case 0x74: try push(.tuple(try popToMark()))     // TUPLE
                case 0x85: let a = try pop(); try push(.tuple([a]))
                case 0x86: let b = try pop(); let a = try pop(); try push(.tuple([a, b]))
                case 0x87: let c = try pop(); let b = try pop(); let a = try pop(); try push(.tuple([a, b, c]))
                case 0x7D: try push(.dict(DictBox()))            // EMPTY_DICT
                case 0x64:                                       // DICT
                    let kv = try popToMark()
                    let d = DictBox()
                    try setItems(.dict(d), kv)
                    try push(.dict(d))
                case 0x73:                                       // SETITEM
                    let v = try pop(); let k = try pop()
                    try setItems(try top(), [k, v])
                case 0x75:                                       // SETITEMS
                    let kv = try popToMark()
                    try setItems(try top(), kv)
                case 0x5D: try push(.list(ListBox()))            // EMPTY_LIST
                case 0x6C:                                       // LIST
                    let l = ListBox(); l.items = try popToMark(); try push(.list(l))
                case 0x61:                                       // APPEND
                    let v = try pop()
                    guard case .list(let l) = try top() else { throw refuse("APPEND to a non-list") }
                    l.items.append(v)
                case 0x65:                                       // APPENDS
                    let vs = try popToMark()
                    guard case .list(let l) = try top() else { throw refuse("APPENDS to a non-list") }
                    l.items.append(contentsOf: vs)
                case 0x4E: try push(.none)
                case 0x88: try push(.bool(true))
                case 0x89: try push(.bool(false))
                case 0x4A:                                       // BININT
                    let v = try uint(4)
                    try push(.int(Int(Int32(truncatingIfNeeded: v))))
                case 0x4B: try push(.int(Int(try byte())))       // BININT1
                case 0x4D: try push(.int(try uint(2)))           // BININT2
                case 0x8A:                                       // LONG1
                    let n = Int(try byte())
                    guard n <= 8 else { throw refuse("integer wider than 64 bits") }
                    let b = try take(n)
                    var v: UInt64 = 0
                    for i in 0..<n { v |= UInt64(b[i]) << (8 * UInt64(i)) }
                    if n > 0 && n < 8 && (b[n - 1] & 0x80) != 0 { v |= ~0 << (8 * UInt64(n)) }
                    try push(.int(Int(Int64(bitPattern: v))))
                case 0x47:                                       // BINFLOAT (big-endian)
                    let b = try take(8)
                    var v: UInt64 = 0
                    for i in 0..<8 { v = v << 8 | UInt64(b[i]) }
                    try push(.float(Double(bitPattern: v)))
                case 0x58: let n = try uint(4); try push(.string(String(decoding: try take(n), as: UTF8.self)))   // BINUNICODE
                case 0x8C: let n = Int(try byte()); try push(.string(String(decoding: try take(n), as: UTF8.self))) // SHORT_BINUNICODE
                case 0x8D: let n = try uint(8); try push(.string(String(decoding: try take(n), as: UTF8.self)))   // BINUNICODE8
                case 0x54: let n = try uint(4); try push(.string(String(decoding: try take(n), as: UTF8.self)))   // BINSTRING
                case 0x55: let n = Int(try byte()); try push(.string(String(decoding: try take(n), as: UTF8.self))) // SHORT_BINSTRING
                case 0x42: let n = try uint(4); _ = try take(n); try push(.bytes(n))                              // BINBYTES
                case 0x43: let n = Int(try byte()); _ = try take(n); try push(.bytes(n))                          // SHORT_BINBYTES
                case 0x63:                                       // GLOBAL
                    let module = try line(); let name = try line()
                    try push(try global(module: module, name: name))
                case 0x93:                                       // STACK_GLOBAL
                    let name = try pop(); let module = try pop()
                    guard let n = name.asString, let m = module.asString else { throw fail("STACK_GLOBAL needs two strings") }
                    try push(try global(module: m, name: n))
                case 0x71: try memoize(Int(try byte()), try top())   // BINPUT
                case 0x72: try memoize(try uint(4), try top())       // LONG_BINPUT
                case 0x94: try memoize(memo.count, try top())        // MEMOIZE
                case 0x68, 0x6A:                                     // BINGET, LONG_BINGET
                    let i = op == 0x68 ? Int(try byte()) : try uint(4)
                    guard let v = memo[i] else { throw fail("memo entry \(i) missing") }
                    try push(v)
                case 0x52:                                           // REDUCE
                    let args = try pop(); let callable = try pop()
                    try push(try reduce(callable, args))
                case 0x51:                                           // BINPERSID
                    try push(try persistentLoad(try pop()))
                case 0x62:                                           // BUILD
                    _ = try pop()
                    // A state dict's only BUILD sets OrderedDict._metadata (module versions), which we ignore.
                    guard case .dict = try top() else { throw refuse("BUILD on something other than a dict") }
                case 0x30: _ = try pop()                             // POP
                case 0x31: _ = try popToMark()                       // POP_MARK
                case 0x32: try push(try top())                       // DUP
                default:
                    throw refuse(String(format: "opcode 0x%02x at byte %d is not allowed in a state dict", op, pos - 1))
                }
            }
        }
    }
}

private extension String {
    init(format: String, _ op: UInt8, _ at: Int) {
        let hex = String(op, radix: 16)
        self = "opcode 0x\(hex.count < 2 ? "0" + hex : hex) at byte \(at) is not allowed in a state dict"
    }
}
