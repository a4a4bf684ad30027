/// The class picker (Enter on a mask), a reducer of its own: it knows only its filter, the
/// highlighted row and the classes to choose from, and says what the user decided.
public struct ClassPicker: Equatable, Sendable {
    public var filter = ""
    public var highlighted = 0

    public init(filter: String = "", highlighted: Int = 0) {
        self.filter = filter
        self.highlighted = highlighted
    }

    public enum Outcome: Equatable {
        case open(ClassPicker)
        /// The class chosen: the highlighted one, or the typed name when none matches.
        case pick(String)
        case cancel
        /// Enter with nothing to pick and nothing typed.
        case needsName
    }

    /// The classes shown for a filter (case-insensitive substring).
    public static func choices(_ classes: [String], filter: String) -> [String] {
        let needle = filter.lowercased()
        return classes.filter { needle.isEmpty || $0.lowercased().contains(needle) }
    }

    public func reduce(_ input: InputEvent, classes: [String]) -> Outcome {
        let choices = Self.choices(classes, filter: filter)
        var next = self
        switch input {
        case .key(.escape):
            return .cancel
        case .key(.up):
            next.highlighted = max(0, highlighted - 1)
        case .key(.down), .character("\t"):
            next.highlighted = min(max(choices.count - 1, 0), highlighted + 1)
        case .key(.backspace), .key(.delete):
            next = ClassPicker(filter: String(filter.dropLast()))
        case .key(.enter), .character("\r"), .character("\n"):
            let typed = filter.trimmingCharacters(in: .whitespaces)
            let name = choices.indices.contains(highlighted) ? choices[highlighted] : typed
            return name.isEmpty ? .needsName : .pick(name)
        case .character(let c) where !c.isNewline && c != "\u{1B}":
            next = ClassPicker(filter: filter + String(c))
        default:
            break
        }
        return .open(next)
    }
}

extension Workbench {
    /// Classes shown in the picker for a typed filter.
    public static func pickerChoices(_ s: WorkbenchState, filter: String) -> [String] {
        ClassPicker.choices(s.objectClasses, filter: filter)
    }

    static func handlePicker(_ input: InputEvent, filter: String, highlighted: Int, _ s: inout WorkbenchState,
                             _ effects: inout [WorkbenchEffect]) {
        switch ClassPicker(filter: filter, highlighted: highlighted).reduce(input, classes: s.objectClasses) {
        case .open(let picker): s.overlay = .classPicker(filter: picker.filter, highlighted: picker.highlighted)
        case .cancel:
            s.overlay = .none
            s.reclassifying = nil
        case .needsName: s.message = "type a class name"
        case .pick(let name):
            s.overlay = .none
            if let proposal = s.reclassifying, let entry = s.currentEntry {
                s.reclassifying = nil
                commit(.proposalClass(image: entry.name, proposal: proposal, className: name), &s, &effects)
                s.message = "proposal is now \(name)"
            } else {
                accept(className: name, &s, &effects)
            }
        }
    }
}
