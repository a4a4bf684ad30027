/// What a key does in the workbench's main view. Each action has a name (what
/// `[keys]` in config.toml rebinds), a description (what the help overlay says) and default keys.
public enum WorkbenchAction: String, CaseIterable, Sendable {
    case positivePoint = "positive_point", negativePoint = "negative_point", boxCorner = "box_corner"
    case undo, redo, clear
    case nextCandidate = "next_candidate", cycleCandidate = "cycle_candidate", chooseA = "choose_a", chooseB = "choose_b"
    case accept, refine, delete
    case cursorLeft = "cursor_left", cursorRight = "cursor_right", cursorUp = "cursor_up", cursorDown = "cursor_down"
    case stepLeft = "step_left", stepRight = "step_right", stepUp = "step_up", stepDown = "step_down"
    case jumpLeft = "jump_left", jumpRight = "jump_right", jumpUp = "jump_up", jumpDown = "jump_down"
    case zoomIn = "zoom_in", zoomOut = "zoom_out", fit
    case nextImage = "next_image", previousImage = "previous_image", firstImage = "first_image", lastImage = "last_image"
    case opacity, toggleList = "toggle_list"
    case metrics, failures, compare, nextFailure = "next_failure", previousFailure = "previous_failure"
    case nextProposal = "next_proposal", previousProposal = "previous_proposal", acceptProposal = "accept_proposal"
    case rejectProposal = "reject_proposal", acceptAbove = "accept_above", proposalClass = "proposal_class"
    case brush, eraser, brushSmaller = "brush_smaller", brushLarger = "brush_larger", paint
    case findPhrase = "find_phrase"
    case nextSlice = "next_slice", previousSlice = "previous_slice", cycleAxis = "cycle_axis", cycleWindow = "cycle_window"
    case nextCase = "next_case", previousCase = "previous_case"
    case help, quit

    public var description: String {
        switch self {
        case .positivePoint: "positive point at the cursor"
        case .negativePoint: "negative point at the cursor"
        case .boxCorner: "box corner at the cursor (twice: the box)"
        case .undo: "undo the last prompt"
        case .redo: "redo"
        case .clear: "clear the prompts (or the box, or the selection)"
        case .nextCandidate: "next candidate mask, else next object; two models: whose mask Enter takes"
        case .cycleCandidate: "next candidate mask of the chosen model"
        case .chooseA: "two models: take model A's mask"
        case .chooseB: "two models: take model B's mask"
        case .accept: "accept the mask: pick its class"
        case .refine: "refine the selected object"
        case .delete: "delete the selected object"
        case .cursorLeft, .cursorRight, .cursorUp, .cursorDown: "move the cursor one image pixel"
        case .stepLeft, .stepRight, .stepUp, .stepDown: "move the cursor one display pixel"
        case .jumpLeft, .jumpRight, .jumpUp, .jumpDown: "move the cursor eight display pixels"
        case .zoomIn: "zoom in at the cursor"
        case .zoomOut: "zoom out at the cursor"
        case .fit: "fit the image"
        case .nextImage: "next image"
        case .previousImage: "previous image"
        case .firstImage: "first image"
        case .lastImage: "last image"
        case .opacity: "overlay opacity"
        case .toggleList: "show or hide the image list"
        case .metrics: "metrics of a prediction set"
        case .failures: "failure browser (/ s e i o x inside)"
        case .compare: "compare two prediction sets"
        case .nextFailure: "next failure opened from the browser"
        case .previousFailure: "previous failure"
        case .nextProposal: "next proposal to review (then the next image with one)"
        case .previousProposal: "previous proposal to review"
        case .acceptProposal: "accept the proposal as it is"
        case .rejectProposal: "reject the proposal"
        case .acceptAbove: "accept every proposal of the image scored at least as high as this one"
        case .proposalClass: "change the proposal's class"
        case .brush: "brush: paint the selected object or the proposal (drag, or Space at the cursor); again: off"
        case .eraser: "eraser: erase from the selected object or the proposal; again: off"
        case .brushSmaller: "smaller brush"
        case .brushLarger: "larger brush"
        case .paint: "brush or eraser: one dab at the cursor"
        case .findPhrase: "find every instance of a phrase (SAM 3): they become proposals to review"
        case .nextSlice: "volumes: next slice"
        case .previousSlice: "volumes: previous slice"
        case .cycleAxis: "volumes: axial, coronal, sagittal (through the cursor)"
        case .cycleWindow: "volumes: window (CT soft tissue, lung, bone; percentile)"
        case .nextCase: "volumes: next case"
        case .previousCase: "volumes: previous case"
        case .help: "this help"
        case .quit: "quit (everything is already saved)"
        }
    }

    public var defaultKeys: [String] {
        switch self {
        case .positivePoint: ["+", "="]
        case .negativePoint: ["-"]
        case .boxCorner: ["b"]
        case .undo: ["u"]
        case .redo: ["C-r"]
        case .clear: ["Esc"]
        case .nextCandidate: ["Tab"]
        case .cycleCandidate: ["`"]
        case .chooseA: ["1"]
        case .chooseB: ["2"]
        case .accept: ["Enter"]
        case .refine: ["e"]
        case .delete: ["d", "Delete", "Backspace"]
        case .cursorLeft: ["Left"]
        case .cursorRight: ["Right"]
        case .cursorUp: ["Up"]
        case .cursorDown: ["Down"]
        case .stepLeft: ["h"]
        case .stepRight: ["l"]
        case .stepUp: ["k"]
        case .stepDown: ["j"]
        case .jumpLeft: ["H", "S-Left"]
        case .jumpRight: ["L", "S-Right"]
        case .jumpUp: ["K", "S-Up"]
        case .jumpDown: ["J", "S-Down"]
        case .zoomIn: ["z"]
        case .zoomOut: ["Z"]
        case .fit: ["0"]
        case .nextImage: ["]", "PageDown"]
        case .previousImage: ["[", "PageUp"]
        case .firstImage: ["Home"]
        case .lastImage: ["End"]
        case .opacity: ["a"]
        case .toggleList: ["\\"]
        case .metrics: ["m"]
        case .failures: ["f"]
        case .compare: ["c"]
        case .nextFailure: ["n"]
        case .previousFailure: ["p"]
        case .nextProposal: ["."]
        case .previousProposal: [","]
        case .acceptProposal: ["y"]
        case .rejectProposal: ["x"]
        case .acceptAbove: ["Y"]
        case .proposalClass: ["C"]
        case .brush: ["B"]
        case .eraser: ["X"]
        case .brushSmaller: ["{"]
        case .brushLarger: ["}"]
        case .paint: ["Space"]
        case .findPhrase: ["t"]
        case .nextSlice: [">"]
        case .previousSlice: ["<"]
        case .cycleAxis: ["v"]
        case .cycleWindow: ["w"]
        case .nextCase: [")"]
        case .previousCase: ["("]
        case .help: ["?"]
        case .quit: ["q"]
        }
    }
}

/// Which key does what in the main view: the defaults, with the user's `[keys]` over them.
public struct Keymap: Equatable, Sendable {
    private var actions: [String: WorkbenchAction] = [:]

    /// The defaults.
    public init() {
        for action in WorkbenchAction.allCases { for key in action.defaultKeys { actions[key] = action } }
    }

    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unknownAction(String), unknownKey(String, action: String), sameKey(String, [String])
        public var description: String {
            switch self {
            case .unknownAction(let name):
                "keys.\(name): no such action (actions: \(WorkbenchAction.allCases.map(\.rawValue).joined(separator: ", ")))"
            case let .unknownKey(key, action):
                "keys.\(action): '\(key)' is not a key (a character, or one of \(Keymap.namedKeys.joined(separator: ", ")), or C-a … C-z)"
            case let .sameKey(key, names): "'\(key)' is bound to more than one action: \(names.sorted().joined(separator: ", "))"
            }
        }
    }

    /// The defaults with `overrides` (action name → its keys) over them: an action named there
    /// takes exactly those keys, and a key it takes leaves whatever action had it by default.
    public init(overrides: [String: [String]]) throws {
        self.init()
        var claimed: [String: String] = [:]
        for (name, keys) in overrides.sorted(by: { $0.key < $1.key }) {
            guard let action = WorkbenchAction(rawValue: name) else { throw Problem.unknownAction(name) }
            for key in keys {
                guard Self.isKey(key) else { throw Problem.unknownKey(key, action: name) }
                if let other = claimed[key], other != name { throw Problem.sameKey(key, [other, name]) }
                claimed[key] = name
            }
            actions = actions.filter { $0.value != action }
            for key in keys { actions[key] = action }
        }
    }

    public func action(for key: String) -> WorkbenchAction? { actions[key] }

    /// The keys bound to `action`, defaults first in their order, then the others sorted.
    public func keys(for action: WorkbenchAction) -> [String] {
        let bound = actions.filter { $0.value == action }.map(\.key)
        return action.defaultKeys.filter(bound.contains) + bound.filter { !action.defaultKeys.contains($0) }.sorted()
    }

    /// The help overlay's lines: every action with the keys that do it now; neighbours that
    /// share a description (the four directions of a cursor move) share a line.
    public var helpLines: [String] {
        var groups: [(keys: [String], description: String)] = []
        for action in WorkbenchAction.allCases {
            if let last = groups.last, last.description == action.description {
                groups[groups.count - 1].keys += keys(for: action)
            } else {
                groups.append((keys(for: action), action.description))
            }
        }
        return groups.map { group in
            let text = group.keys.isEmpty ? "(unbound)" : group.keys.joined(separator: " ")
            return text.padding(toLength: max(16, text.count + 1), withPad: " ", startingAt: 0) + " " + group.description
        }
    }

    static let namedKeys = ["Enter", "Tab", "Esc", "Space", "Backspace", "Delete", "Up", "Down", "Left", "Right",
                            "S-Up", "S-Down", "S-Left", "S-Right", "PageUp", "PageDown", "Home", "End"]

    static func isKey(_ name: String) -> Bool {
        if namedKeys.contains(name) { return true }
        if name.count == 3, name.hasPrefix("C-"), let c = name.last, c.isLowercase, c.isASCII { return true }
        guard name.count == 1, let scalar = name.unicodeScalars.first else { return false }
        return scalar.value > 0x20 && scalar.value != 0x7F
    }

    /// The name of a typed character (control characters as C-x, Tab, Enter, Space).
    static func name(of character: Character) -> String? {
        switch character {
        case "\t": return "Tab"
        case "\r", "\n", "\r\n": return "Enter"
        case " ": return "Space"
        default: break
        }
        guard let scalar = character.unicodeScalars.first else { return nil }
        if (1...26).contains(scalar.value), let letter = Unicode.Scalar(scalar.value + 96) { return "C-" + String(Character(letter)) }
        return scalar.value >= 0x20 ? String(character) : nil
    }

    static func name(of key: SpecialKey) -> String {
        switch key {
        case .up: "Up"
        case .down: "Down"
        case .left: "Left"
        case .right: "Right"
        case .shiftUp: "S-Up"
        case .shiftDown: "S-Down"
        case .shiftLeft: "S-Left"
        case .shiftRight: "S-Right"
        case .pageUp: "PageUp"
        case .pageDown: "PageDown"
        case .home: "Home"
        case .end: "End"
        case .enter: "Enter"
        case .escape: "Esc"
        case .delete: "Delete"
        case .backspace: "Backspace"
        }
    }
}
