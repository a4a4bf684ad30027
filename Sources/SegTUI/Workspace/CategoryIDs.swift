import SegCore
import SegEval

/// Which id each class is written with, in `instances.json` and the label maps. With ground truth
/// that names its categories (COCO), a class is written with the ground truth's own id for its
/// name, so a class list in another order still writes the right ids; classes the ground truth
/// does not have (typed in the picker) take the next ids after its largest, in class order.
/// Otherwise a class's id is its place among the object classes plus one (background is 0), as a
/// `classes.txt` whose first line is `background` numbers them.
public struct CategoryIDs: Equatable, Sendable {
    /// The ground truth's ids by class name (empty: none named).
    public var known: [String: Int] = [:]

    public init(known: [String: Int] = [:]) { self.known = known }

    /// The ids of `categories` (a ground truth's), checked against the workspace's class list as
    /// `segterm eval --classes` checks it: a class after line 0 (background) that the ground truth
    /// does not name is a conflict (a misspelt or foreign list would otherwise write ids nobody
    /// expects), an error naming both files; so is a ground truth that gives one name two ids.
    public static func matching(classes: [String], classesSource: String?, categories: [Int: String]?,
                                groundTruth: String) throws -> CategoryIDs {
        guard let categories, !categories.isEmpty else { return CategoryIDs() }
        var known: [String: Int] = [:]
        for (id, name) in categories.sorted(by: { $0.key < $1.key }) {
            if let other = known[name], other != id {
                throw SegError(.invalid, file: groundTruth, "category '\(name)' has two ids, \(other) and \(id)")
            }
            known[name] = id
        }
        if !classes.isEmpty {
            try Evaluation.checkClasses(classes, against: categories.sorted { $0.key < $1.key }.map(\.value), groundTruth: groundTruth,
                                        classesFile: classesSource)
        }
        return CategoryIDs(known: known)
    }

    /// The id of `name` among `classes` (the workspace's object classes, in order).
    public func id(of name: String, classes: [String]) -> Int {
        if let id = known[name] { return id }
        guard !known.isEmpty else { return (classes.firstIndex(of: name) ?? classes.count) + 1 }
        let extra = classes.filter { known[$0] == nil }
        return (known.values.max() ?? 0) + 1 + (extra.firstIndex(of: name) ?? extra.count)
    }
}
