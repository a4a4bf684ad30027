/// PyTorch's zip checkpoint: `<archive>/data.pkl` (the pickled state dict), `<archive>/data/<key>`
/// (one raw storage per key, little-endian), `<archive>/byteorder`.
public enum TorchCheckpoint {
    public static func read(_ file: MappedFile) throws(CheckpointError) -> StateDict {
        let zip = try ZipArchive(file)
        let path = file.path
        let pickles = zip.names.filter { $0 == "data.pkl" || $0.hasSuffix("/data.pkl") }
        guard pickles.count == 1, let pklName = pickles.first, let pklEntry = zip.entries[pklName] else {
            throw CheckpointError(.unsupported, file: path, pickles.isEmpty
                ? "zip archive has no data.pkl: not a PyTorch checkpoint"
                : "zip archive has \(pickles.count) data.pkl entries")
        }
        let prefix = String(pklName.dropLast("data.pkl".count))
        if let bo = zip.entries[prefix + "byteorder"] {
            let text = String(decoding: try zip.data(bo), as: UTF8.self)
            guard text == "little" else { throw CheckpointError(.unsupported, file: path, "storages are \(text)-endian") }
        }
        let root = try Pickle.load(try zip.data(pklEntry), file: path)
        let dict = try stateDict(in: root, file: path)

        var records: [String: TensorRecord] = [:]
        var keys: [String] = []
        for (k, v) in dict.items {
            guard let key = k.asString else { throw CheckpointError(.invalid, file: path, "state dict key is not a string") }
            guard case .tensor(let t) = v else { continue }  // state dicts hold only tensors; skip anything else
            let storageName = prefix + "data/" + t.storage.key
            guard let entry = zip.entries[storageName] else {
                throw CheckpointError(.corrupt, file: path, "tensor \(key): storage \(storageName) is not in the archive")
            }
            guard let need = checkedMul(t.storage.count, t.storage.dtype.byteSize), entry.size >= need else {
                throw CheckpointError(.truncated, file: path, "tensor \(key): storage \(storageName) holds \(entry.size) bytes, fewer than its \(t.storage.count) \(t.storage.dtype.rawValue) elements")
            }
            records[key] = try TensorRecord(dtype: t.storage.dtype, shape: t.shape, strides: t.strides, offset: t.offset,
                                            storageByteOffset: entry.dataOffset, storageCount: t.storage.count,
                                            crc32: entry.crc32, storageName: storageName, key: key, file: path)
            keys.append(key)
        }
        guard !records.isEmpty else { throw CheckpointError(.invalid, file: path, "checkpoint holds no tensors") }
        return StateDict(file: file, records: records, keys: keys)
    }

    /// The state dict itself, or the one a training checkpoint nests under "model" / "state_dict".
    static func stateDict(in root: Pickle.Value, file: String) throws(CheckpointError) -> Pickle.DictBox {
        guard case .dict(let d) = root else { throw CheckpointError(.invalid, file: file, "data.pkl does not hold a dict") }
        if d.items.contains(where: { if case .tensor = $0.1 { true } else { false } }) { return d }
        for (k, v) in d.items {
            if let name = k.asString, name == "model" || name == "state_dict", case .dict(let inner) = v { return inner }
        }
        return d
    }
}
