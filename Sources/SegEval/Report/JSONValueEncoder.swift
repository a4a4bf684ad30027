/// Encodes any `Encodable` into a `JSONValue`, keeping object keys in the order they are encoded
/// (a synthesised `encode(to:)` encodes in declaration order), so a report type's declaration is
/// the documented key order. A nil optional is `null` (the key stays, as pycocotools-style reports
/// keep their keys); a type that leaves a key out writes its own `encode(to:)`. Non-finite
/// doubles become `null` when serialised, as JSON has no other spelling for them.
extension JSONValue {
    public init(encoding value: some Encodable) throws {
        let root = JSONValueEncoder.Node()
        try value.encode(to: JSONValueEncoder(node: root, codingPath: []))
        self = root.resolved
    }
}

struct JSONValueEncoder: Encoder {
    /// A value under construction; containers write into it as they are filled.
    final class Node {
        var value: JSONValue = .null
        /// Children of an object or array, resolved when the value is read.
        var keyed: [(String, Node)] = []
        var unkeyed: [Node] = []
        var kind: Kind = .single

        enum Kind { case single, object, array }

        var resolved: JSONValue {
            switch kind {
            case .single: value
            case .object: .object(keyed.map { ($0.0, $0.1.resolved) })
            case .array: .array(unkeyed.map(\.resolved))
            }
        }
    }

    let node: Node
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(node: Node, codingPath: [any CodingKey]) {
        self.node = node
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.kind = .object
        return KeyedEncodingContainer(Keyed<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.kind = .array
        return Unkeyed(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer { Single(node: node, codingPath: codingPath) }

    /// The scalar spellings, shared by the three container kinds.
    static func scalar(_ value: some Encodable) -> JSONValue? {
        switch value {
        case let v as Bool: .bool(v)
        case let v as String: .string(v)
        case let v as Double: .number(v)
        case let v as Float: .number(Double(v))
        case let v as Int: .integer(v)
        case let v as Int32: .integer(Int(v))
        case let v as Int64: .integer(Int(v))
        case let v as UInt8: .integer(Int(v))
        case let v as UInt32: .integer(Int(v))
        case let v as UInt64: .integer(Int(truncatingIfNeeded: v))
        default: nil
        }
    }

    static func encode(_ value: some Encodable, into node: Node, codingPath: [any CodingKey]) throws {
        if let scalar = scalar(value) {
            node.kind = .single
            node.value = scalar
        } else {
            try value.encode(to: JSONValueEncoder(node: node, codingPath: codingPath))
        }
    }

    struct Keyed<Key: CodingKey>: KeyedEncodingContainerProtocol {
        let node: Node
        let codingPath: [any CodingKey]

        private func child(_ key: Key) -> Node {
            let child = Node()
            if let at = node.keyed.firstIndex(where: { $0.0 == key.stringValue }) { node.keyed[at].1 = child } else {
                node.keyed.append((key.stringValue, child))
            }
            return child
        }

        mutating func encodeNil(forKey key: Key) throws { child(key).value = .null }
        // nil is written as null, not left out: the synthesised conformances call these.
        mutating func encodeIfPresent<T: Encodable>(_ value: T?, forKey key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encodeIfPresent(_ value: Double?, forKey key: Key) throws { try encodeIfPresent(value as Double?, orNull: key) }
        mutating func encodeIfPresent(_ value: Int?, forKey key: Key) throws { try encodeIfPresent(value as Int?, orNull: key) }
        mutating func encodeIfPresent(_ value: String?, forKey key: Key) throws { try encodeIfPresent(value as String?, orNull: key) }
        mutating func encodeIfPresent(_ value: Bool?, forKey key: Key) throws { try encodeIfPresent(value as Bool?, orNull: key) }
        private mutating func encodeIfPresent<T: Encodable>(_ value: T?, orNull key: Key) throws {
            if let value { try encode(value, forKey: key) } else { try encodeNil(forKey: key) }
        }
        mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
            try JSONValueEncoder.encode(value, into: child(key), codingPath: codingPath + [key])
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key) -> KeyedEncodingContainer<NestedKey> {
            let c = child(key)
            c.kind = .object
            return KeyedEncodingContainer(Keyed<NestedKey>(node: c, codingPath: codingPath + [key]))
        }
        mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
            let c = child(key)
            c.kind = .array
            return Unkeyed(node: c, codingPath: codingPath + [key])
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoder(node: node, codingPath: codingPath) }
        mutating func superEncoder(forKey key: Key) -> any Encoder { JSONValueEncoder(node: child(key), codingPath: codingPath + [key]) }
    }

    struct Unkeyed: UnkeyedEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]
        var count: Int { node.unkeyed.count }

        private func next() -> Node {
            let child = Node()
            node.unkeyed.append(child)
            return child
        }

        mutating func encodeNil() throws { next().value = .null }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.encode(value, into: next(), codingPath: codingPath)
        }
        mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
            let c = next()
            c.kind = .object
            return KeyedEncodingContainer(Keyed<NestedKey>(node: c, codingPath: codingPath))
        }
        mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
            let c = next()
            c.kind = .array
            return Unkeyed(node: c, codingPath: codingPath)
        }
        mutating func superEncoder() -> any Encoder { JSONValueEncoder(node: next(), codingPath: codingPath) }
    }

    struct Single: SingleValueEncodingContainer {
        let node: Node
        let codingPath: [any CodingKey]

        mutating func encodeNil() throws {
            node.kind = .single
            node.value = .null
        }
        mutating func encode<T: Encodable>(_ value: T) throws {
            try JSONValueEncoder.encode(value, into: node, codingPath: codingPath)
        }
    }
}
