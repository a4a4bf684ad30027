import ArgumentParser
import Foundation
import SegCore
import SegModels
import SegNN
import SegTUI

/// The wait a user feels on moving to the next image: from `]` to the first mask of a click made
/// as soon as the image shows, with and without prefetching, through the real workbench session
/// (reducer, workers, prefetcher) without a terminal.
struct BenchOpen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "open",
        abstract: "Time from ] to the first mask after a click on the new image, with and without prefetch.",
        discussion: """
            Each image of FOLDER in turn: wait until the model is ready, click its centre, work \
            --work seconds, press ], click the new image's centre as soon as it shows, and time \
            until its mask arrives. Also times the click on each image while the next one is \
            prepared in the background. No embedding cache on disk, so every image is encoded.
            """
    )

    @Argument(help: "A folder of images (at least 2).") var folder: String
    @Option(help: "Checkpoint file, or grabcut.") var model: String
    @Option(help: "Seconds the user works on each image before moving on.") var work = 3.0
    @Option(help: "Images visited (at most the folder's).") var images = 6
    @Option(help: "Threads (default: all cores).") var threads: Int?

    struct Timing {
        var toFirstMask: [Double] = []
        var clickWhileWorking: [Double] = []
    }

    func run() throws {
        Threads.configure(threads)
        let segmenter = try ModelRegistry.segmenter(named: model)
        let count = min(images, try WorkbenchSession.listImages(folder).count)
        guard count >= 2 else { throw SegError(.invalid, file: folder, "needs at least two images") }
        print("model \(segmenter.name), \(count) images of \(folder), \(String(format: "%.1f", work)) s of work on each, threads \(Threads.count)")
        for prefetch in [0, 2] {
            let t = try measure(segmenter, images: count, prefetch: prefetch)
            print(String(format: "prefetch %d: ] to first mask median %.0f ms (%@); click while the next image is prepared: median %.0f ms",
                         prefetch, median(t.toFirstMask) * 1000, t.toFirstMask.map { String(format: "%.0f", $0 * 1000) }.joined(separator: " "),
                         median(t.clickWhileWorking) * 1000))
        }
    }

    func measure(_ segmenter: AnySegmenter, images count: Int, prefetch: Int) throws -> Timing {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-bench-open-\(UUID().uuidString)").path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let config = WorkspaceConfig(images: folder, output: output)
        let session = try WorkbenchSession(config: config, models: [segmenter], theme: .dark, rows: 50, columns: 160,
                                           colorMode: .direct, prefetch: prefetch)
        var timing = Timing()
        session.wait { session.state.lane.prepared }
        for index in 0..<count {
            if index > 0 {
                let start = DispatchTime.now()
                session.send(.input(.character("]")))
                session.wait { session.state.image != nil && session.state.current == index }
                _ = session.clickAndWait()
                timing.toFirstMask.append(seconds(since: start))
            } else {
                timing.clickWhileWorking.append(session.clickAndWait())
            }
            if index > 0 { timing.clickWhileWorking.append(session.clickAndWait()) }
            let until = Date().addingTimeInterval(work)
            while Date() < until { if !session.drainWorker() { Thread.sleep(forTimeInterval: 0.005) } }
        }
        session.stop()
        return timing
    }
}

/// Two models on the same clicks against each alone: the A/B workbench's cost per click.
struct BenchAB: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ab",
        abstract: "Time a click with two models side by side against each model alone.",
        discussion: """
            For each image of FOLDER: wait until the models are ready, then click points on a grid \
            (each click a new object) and time until every model has answered. Run five times: \
            A alone and B alone with every core and with half of them, and both together (each on \
            its own worker with half of the cores, as segterm open --model A --model B runs them).
            """
    )

    @Argument(help: "A folder of images.") var folder: String
    @Option(name: .customLong("model"), help: "The two models (grabcut or checkpoints).") var models: [String] = []
    @Option(help: "Clicks per image.") var clicks = 8
    @Option(help: "Images (at most the folder's).") var images = 3

    func validate() throws {
        guard models.count == 2 else { throw ValidationError("give two --model options") }
    }

    func run() throws {
        let count = min(images, try WorkbenchSession.listImages(folder).count)
        var medians: [String: Double] = [:]
        let half = max(1, Threads.coreCount / 2)
        let runs = [("A alone", [0], Threads.coreCount), ("B alone", [1], Threads.coreCount),
                    ("A alone, half the cores", [0], half), ("B alone, half the cores", [1], half), ("A and B", [0, 1], half)]
        for (label, lanes, threads) in runs {
            Threads.configure(threads)
            let segmenters = try lanes.map { try ModelRegistry.segmenter(named: models[$0]) }
            let output = FileManager.default.temporaryDirectory.appendingPathComponent("segterm-bench-ab-\(UUID().uuidString)").path
            defer { try? FileManager.default.removeItem(atPath: output) }
            let session = try WorkbenchSession(config: WorkspaceConfig(images: folder, output: output), models: segmenters,
                                               theme: .dark, rows: 50, columns: 160, colorMode: .direct)
            var times: [Double] = []
            for index in 0..<count {
                if index > 0 { session.send(.input(.character("]"))) }
                session.wait { session.state.current == index && session.state.image != nil && session.state.lanes.allSatisfy(\.prepared) }
                let image = session.state.image!
                for k in 0..<clicks {
                    session.send(.input(.key(.escape)))  // each click a new object
                    let pixel = PixelPoint(x: image.width * (1 + k % 4) / 5, y: image.height * (1 + k / 4 % 4) / 5)
                    times.append(session.clickAndWait(at: pixel))
                }
            }
            session.stop()
            medians[label] = median(times)
            print(String(format: "%@ (%@): median %.1f ms per click over %d clicks, %d threads each", label,
                         segmenters.map(\.name).joined(separator: " + "), median(times) * 1000, times.count, Threads.count))
        }
        if let a = medians["A alone"], let b = medians["B alone"], let ab = medians["A and B"],
           let aHalf = medians["A alone, half the cores"], let bHalf = medians["B alone, half the cores"] {
            print(String(format: "A and B / slower alone (every core) = %.2f; / slower alone (the same half of the cores) = %.2f; / (A + B) = %.2f",
                         ab / max(a, b), ab / max(aHalf, bHalf), ab / (a + b)))
        }
    }
}

extension WorkbenchSession {
    /// Takes the workers' reports until `condition` holds.
    func wait(until condition: () -> Bool) {
        while !condition() {
            if !drainWorker() { Thread.sleep(forTimeInterval: 0.0005) }
        }
    }

    /// A positive point at the cursor (or a left click on `pixel`); seconds until every model has
    /// answered it (or failed).
    func clickAndWait(at pixel: PixelPoint? = nil) -> Double {
        let start = DispatchTime.now()
        if let pixel, let cell = WorkbenchLayout(state).cell(for: pixel) {
            send(.input(.mouse(column: cell.column, row: cell.row, .leftClick)))
        } else {
            send(.input(.character("+")))
        }
        let request = state.latestRequest
        wait { state.lanes.allSatisfy { $0.candidatesRequest >= request || $0.activity.isFailure } }
        return seconds(since: start)
    }
}

func seconds(since start: DispatchTime) -> Double {
    Double(DispatchTime.now().uptimeNanoseconds - start.uptimeNanoseconds) / 1e9
}

/// The middle value (the mean of the two middle ones for an even count); NaN for none. Every
/// benchmark reports this one.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted(), mid = sorted.count / 2
    guard !sorted.isEmpty else { return .nan }
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

extension ModelActivity {
    var isFailure: Bool { if case .failed = self { true } else { false } }
}
