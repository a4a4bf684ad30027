import ArgumentParser
import Foundation
import SegCore
import SegTUI
#if canImport(Glibc)
import Glibc
#endif

struct View: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Show an image full-screen in the terminal, with a mask over it.",
        discussion: """
            Keys: m toggles the mask, + and - zoom, arrows or hjkl pan, 0 fits the image, q quits.
            A mask pixel is object when it is non-zero and not the --ignore-value; colour masks use the \
            largest channel. Colours follow the terminal (24-bit when COLORTERM says so, else 256 or 8); \
            NO_COLOR turns them off.
            """
    )

    @Argument(help: "The image (PNG, JPEG, BMP).")
    var image: String

    @Option(help: "A mask of the same size to draw over the image.")
    var mask: String?

    @Option(help: "Mask value that marks pixels to ignore (e.g. 128 in the GrabCut masks).")
    var ignoreValue: UInt32?

    @Option(help: "Colours: auto, direct, 256, 8 or none.")
    var color: CursesTerminal.ColorRequest = .auto

    @Option(help: "How to draw the image: auto (ask the terminal), kitty, sixel or text.")
    var graphics = "auto"

    @Option(help: "Text mode's symbols: half, quadrants (the default) or sextants.")
    var symbols: BlockSymbols?

    @Option(help: "Colour theme: auto (light or dark as the terminal's background), dark, light, high-contrast, or a .toml file.")
    var theme: String?

    @OptionGroup var imageOptions: ImageOptions

    func validate() throws {
        guard graphics == "auto" || GraphicsMode(rawValue: graphics) != nil else {
            throw ValidationError("--graphics takes auto, kitty, sixel or text")
        }
    }

    func run() throws {
        let environment = ProcessInfo.processInfo.environment
        let themeName = try self.theme ?? UserConfig.load().theme ?? "auto"
        let fixedTheme = themeName == "auto" ? nil : try Theme.resolve(themeName)
        let content = try Self.loadContent(image: image, mask: mask, ignoreValue: ignoreValue, limits: imageOptions.limits)
        guard isatty(STDIN_FILENO) != 0, isatty(STDOUT_FILENO) != 0 else {
            throw ValidationError("view needs a terminal (stdin and stdout must be a tty)")
        }
        let decision = TerminalProbe.detect(environment: environment, override: GraphicsMode(rawValue: graphics))
        let theme = try fixedTheme ?? Theme.resolve(Theme.automatic(lightBackground: decision.lightBackground))
        let (terminal, display) = try TerminalStart.start(decision, symbols: symbols ?? TerminalStart.defaultSymbols(environment),
                                                          color: color, theme: theme, environment: environment)
        defer { terminal.stop() }
        Viewer.run(content, terminal: terminal, theme: theme, display: display)
    }

    static func loadContent(image path: String, mask maskPath: String?, ignoreValue: UInt32?,
                            limits: ImageFile.Limits) throws -> ViewerContent {
        let picture = try ImageFile.read(path, limits: limits).rgbImage()
        var mask: Mask?
        if let maskPath {
            let raster = try ImageFile.read(maskPath, limits: limits)
            guard raster.size == picture.size else {
                throw SegError(.invalid, file: maskPath, "mask is \(raster.size) but the image \(path) is \(picture.size)")
            }
            mask = raster.objectMask(ignoreValue: ignoreValue).object
        }
        return ViewerContent(image: picture, imageName: (path as NSString).lastPathComponent, mask: mask,
                             maskName: maskPath.map { ($0 as NSString).lastPathComponent })
    }
}

extension CursesTerminal.ColorRequest: ExpressibleByArgument {}
