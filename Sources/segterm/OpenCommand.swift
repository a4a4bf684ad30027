import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN
import SegTUI
#if canImport(Glibc)
import Glibc
#endif

extension BlockSymbols: ExpressibleByArgument {}

struct Open: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Open the workbench: click to segment the images of a folder and keep the masks.",
        discussion: """
            A folder with a segterm.toml opens as that file describes (see README); a plain folder of \
            images opens with defaults. Accepted masks go to the output folder as PNG label maps and \
            COCO JSON, and every action is journalled there, so a killed session loses nothing. \
            Press ? in the workbench for the keys.
            """
    )

    @Argument(help: "A folder of images, one with a segterm.toml, or NIfTI volumes (.nii/.nii.gz, or a Decathlon / nnU-Net folder: imagesTr, labelsTr, dataset.json).")
    var folder: String?

    @Option(help: "Folder of images (instead of FOLDER).")
    var images: String?

    @Option(help: "Ground truth: COCO instances JSON or a folder of masks.")
    var gt: String?

    @Option(name: .customLong("pred"), help: "A prediction set as NAME=PATH (repeatable).")
    var predictions: [String] = []

    @Option(help: ArgumentHelp("The model: grabcut, or a SAM / MobileSAM / SAM 2.1 / SAM 3 checkpoint; medsam:CHECKPOINT for MedSAM (SAM ViT-B weights with MedSAM's own preprocessing: the image stretched to 1024² by a cubic spline and scaled to 0–1, one mask thresholded at probability 0.5). Twice: both models answer every prompt, side by side (A/B).",
                               valueName: "grabcut|CHECKPOINT|medsam:CHECKPOINT"))
    var model: [String] = []

    @Option(help: "Output folder (default: the workspace's, or FOLDER-segterm-out beside a plain folder of images).")
    var out: String?

    @Flag(help: "Show in the status line the bytes each frame sends to the terminal (what a click costs over SSH).")
    var debugIO = false

    @Option(help: "How to draw images: auto (ask the terminal), kitty, sixel or text (default: the user configuration's, else auto).")
    var graphics: String?

    @Option(help: "Text mode's symbols: half (▀, every font; the default on the Linux console), quadrants (▚, most fonts; the default) or sextants (🬗, recent fonts).")
    var symbols: BlockSymbols?

    @Option(help: "Images after the current one that the model prepares in the background (0: off; default 2).")
    var prefetch: Int?

    @Option(help: "Proposals to review (segterm autolabel --out, or any segterm proposals file): y accepts, x rejects, Y accepts the rest above this score, . and , walk them.")
    var proposals: String?

    @Option(help: "CLIP's BPE vocabulary (bpe_simple_vocab_16e6.txt.gz) for SAM 3's phrases (t); default: the one beside the checkpoint.")
    var vocab: String?

    @Option(name: .customLong("text-threshold"), help: "SAM 3's phrases: the score an instance must pass to be proposed (default 0.5, the official one; 0: every query).")
    var textThreshold: Float = SAM3ConceptDetector.defaultThreshold

    @Option(help: "A report of segterm noc --out: the metrics view shows its mean IoU per click.")
    var noc: String?

    @Option(help: "Colour theme: auto (light or dark as the terminal's background), dark, light, high-contrast, a theme of ~/.config/segterm/themes, or a .toml file.")
    var theme: String?

    @Option(help: "Mask value to ignore in ground-truth masks (e.g. 128 for GrabCut); overrides segterm.toml's ignore_value.")
    var ignoreValue: UInt32?

    @Option(help: "Colours: auto, direct, 256, 8 or none.")
    var color: CursesTerminal.ColorRequest = .auto

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard folder != nil || images != nil else { throw ValidationError("give a FOLDER or --images DIR") }
        for p in predictions where !p.contains("=") { throw ValidationError("--pred takes NAME=PATH, got '\(p)'") }
        if let prefetch, !(0...16).contains(prefetch) { throw ValidationError("--prefetch must be in 0…16") }
        guard (0..<1).contains(textThreshold) else { throw ValidationError("--text-threshold must be in [0, 1)") }
        guard model.count <= 2 else { throw ValidationError("--model: give one model, or two to compare them") }
        if let graphics, graphics != "auto", GraphicsMode(rawValue: graphics) == nil {
            throw ValidationError("--graphics takes auto, kitty, sixel or text")
        }
    }

    func workspace() throws -> WorkspaceConfig {
        var config = try WorkspaceConfig.open(folder: images ?? folder ?? ".")
        if let gt { config.groundTruth = gt }
        if !predictions.isEmpty {
            config.predictions = predictions.map { p in
                let parts = p.split(separator: "=", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "")
            }
        }
        if let first = model.first { config.model = first }
        if let out { config.output = out }
        if let noc { config.noc = noc }
        if let ignoreValue { config.ignoreValue = ignoreValue }
        return config
    }

    func run() throws {
        let config = try workspace()
        let user = try UserConfig.load()
        let graphics = self.graphics ?? user.graphics ?? "auto"
        let themeName = self.theme ?? user.theme ?? "auto"
        // Resolved before the terminal is asked, so a misspelt theme is an error on a plain terminal.
        let fixedTheme = themeName == "auto" ? nil : try Theme.resolve(themeName)
        let cache = EmbeddingCache(directory: EmbeddingCache.defaultDirectory)
        let specs = [config.model] + model.dropFirst()
        if specs.count > 1 {
            // Two models run at once, one per worker: each gets its share of the cores, so together
            // they never oversubscribe the machine (OpenBLAS threads included).
            Threads.configure(max(1, Threads.coreCount / specs.count))
        }
        let segmenters = try specs.map { try ModelRegistry.segmenter(named: $0, cache: cache, vocabulary: vocab, phraseThreshold: textThreshold) }
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw ValidationError("open needs a terminal (stdin and stdout must be a tty)")
        }
        if let term = ProcessInfo.processInfo.environment["TERM"], term == "dumb" || term.isEmpty {
            throw SegError(.unsupported, file: "TERM=\(term)", "the workbench needs a terminal with cursor addressing")
        }
        // Before the terminal starts, so a second session on the same folder prints its error on a
        // plain terminal and exits 1 without reading or writing anything in the folder.
        let lock = try OutputLock(folder: config.output)
        defer { withExtendedLifetime(lock) {} }
        // Asked before ncurses starts: the replies must not reach its input.
        let environment = ProcessInfo.processInfo.environment
        let decision = TerminalProbe.detect(environment: environment, override: GraphicsMode(rawValue: graphics))
        let theme = try fixedTheme ?? Theme.resolve(Theme.automatic(lightBackground: decision.lightBackground))
        let symbols = self.symbols ?? user.symbols ?? TerminalStart.defaultSymbols(environment)
        let (terminal, display) = try TerminalStart.start(decision, symbols: symbols, color: color, theme: theme, environment: environment)
        defer { terminal.stop() }
        let (rows, columns) = terminal.size
        let session = try WorkbenchSession(config: config, models: segmenters, theme: theme, rows: rows, columns: columns,
                                           colorMode: terminal.colorMode, display: display, limits: imageOptions.limits,
                                           prefetch: prefetch ?? user.prefetch ?? 2, keymap: user.keymap,
                                           checkpoints: specs.map { ModelRegistry.checkpointFile($0).map { URL(fileURLWithPath: $0).standardizedFileURL.path } },
                                           proposals: proposals)
        session.run(terminal: terminal, debugIO: debugIO)
        terminal.stop()
        for line in session.exportFormats() { FileHandle.standardError.write(Data("segterm: output \(line)\n".utf8)) }
        if session.isPreparingAhead {
            // A background preparation cannot be interrupted (an image encoder runs for seconds),
            // and the C/C++ destructors that `exit` runs (OpenBLAS's among them) crash under it.
            // Nothing is left to save: every action was journalled and written when it happened.
            lock.release()
            _exit(0)
        }
    }
}
