import Foundation
#if canImport(Glibc)
import Glibc
#endif
import SegCore
import SegEval
import SegModels

/// The workbench session: the workspace, its journal and outputs, the model worker, and the loop
/// that turns input and worker reports into state, effects and frames.
public final class WorkbenchSession {
    public private(set) var state: WorkbenchState
    public let config: WorkspaceConfig
    let writer: OutputWriter
    let journal: Journal<WorkRecord>
    /// One worker per model (two in an A/B session), in lane order.
    let workers: [ModelWorker]
    let inbox = EventInbox()
    let evaluationQueue = DispatchQueue(label: "segterm.evaluation", qos: .utility)
    let groundTruth: GroundTruthObjects?
    let theme: Theme
    /// A volume data set's volumes (nil: a folder of images).
    let volumes: VolumeLibrary?
    /// Writes label volumes off the interface's thread (a CT's takes a good part of a second),
    /// one at a time, in the order of the accepts; `stop` and `settle` wait for it.
    let volumeWrites = DispatchQueue(label: "segterm.volume-output", qos: .userInitiated)

    /// Image files in a folder, by name: PNG, JPEG and BMP, whatever the case of the extension.
    public static func listImages(_ folder: String) throws -> [ImageEntry] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: folder)
        } catch {
            throw SegError(.notFound, file: folder, "cannot list the image folder")
        }
        let extensions: Set<String> = ["png", "jpg", "jpeg", "bmp"]
        return names.filter { extensions.contains(($0 as NSString).pathExtension.lowercased()) && !$0.hasPrefix(".") }
            .sorted().map { ImageEntry(path: folder + "/" + $0) }
    }

    /// Opens the workspace and replays its journal, so a session killed at any moment resumes
    /// where it stopped.
    public convenience init(config: WorkspaceConfig, model: AnySegmenter, theme: Theme, rows: Int, columns: Int,
                            colorMode: ColorMode, limits: ImageFile.Limits = .standard) throws {
        try self.init(config: config, models: [model], theme: theme, rows: rows, columns: columns, colorMode: colorMode, limits: limits)
    }

    /// `models`: one, or two to answer the same prompts side by side (A/B). `prefetch`: how many
    /// of the next images each model prepares in the background (0: none).
    public init(config: WorkspaceConfig, models: [AnySegmenter], theme: Theme, rows: Int, columns: Int,
                colorMode: ColorMode, display: DisplayGrid = .halfBlocks, limits: ImageFile.Limits = .standard,
                prefetch: Int = 0, keymap: Keymap = Keymap(), checkpoints: [String?] = [], proposals: String? = nil) throws {
        guard (1...2).contains(models.count) else { throw SegError(.invalid, file: "--model", "give one or two models") }
        self.config = config
        self.theme = theme
        // A folder of NIfTI volumes (or a Decathlon / nnU-Net raw folder) opens slice by slice.
        let volumeData = try VolumeDataSet.detect(folder: config.images, groundTruth: config.groundTruth, predictions: config.predictions)
        let volumes = volumeData.map { VolumeLibrary(dataSet: $0) }
        self.volumes = volumes
        let images = try volumeData?.entries ?? Self.listImages(config.images)
        guard !images.isEmpty else { throw SegError(.invalid, file: config.images, "no PNG, JPEG or BMP images (nor .nii / .nii.gz volumes) in this folder") }
        writer = OutputWriter(folder: config.output, palette: theme.classPalette)
        try writer.prepareFolders()
        var state = WorkbenchState(rows: rows, columns: columns, colorMode: colorMode, images: images,
                                   classes: config.classes.isEmpty ? volumeData?.classes ?? [] : config.classes, modelNames: models.map(\.name))
        if let volumeData {
            state.volume = VolumeBrowsing(dataSet: volumeData)
            state.showList = false  // thousands of slices: the status line says where one is
        }
        state.display = display
        state.keymap = keymap
        state.phraseLane = models.firstIndex { $0.findPhrase != nil }
        // Proposals before the replay: the journal's reviews refer to them by position.
        if let proposals {
            state.proposals = try ReviewProposal.byImage(try ProposalFile.read(proposals), file: proposals)
            let names = Set(images.map(\.name))
            if !state.proposals.isEmpty, !state.proposals.keys.contains(where: names.contains) {
                throw SegError(.invalid, file: proposals, "no proposal is on an image of \(config.images) (they pair by file_name)")
            }
            for name in state.proposals.values.flatMap({ $0.map(\.className) }) where !state.classes.contains(name) {
                state.classes.append(name)
            }
        }
        let replay = try Journal<WorkRecord>.restore(writer.journalPath)
        for record in replay.records { Workbench.apply(record, to: &state) }
        var start = state.current
        if let volumeData, !replay.records.contains(where: { if case .visit = $0 { true } else { false } }),
           let middle = volumeData.index(case: 0, plane: .axial, slice: (volumeData.cases.first?.size[2] ?? 0) / 2) {
            start = middle  // a new volume session opens on the first case's middle axial slice
        }
        // Prompts replayed for the last image went to the editor: keep them as that image's draft,
        // which opening it below brings back (and decodes once the model is ready).
        if let entry = state.currentEntry, !state.editor.isEmpty { state.drafts[entry.name] = state.editor }
        // Set after the replay: a digest in the journal is of the file as it was then.
        for (k, path) in checkpoints.enumerated() where state.lanes.indices.contains(k) { state.lanes[k].checkpoint = path }
        state.current = -1  // so that opening the start image is a move
        state.editor = ObjectEditor()
        journal = try Journal<WorkRecord>(path: writer.journalPath)
        let inbox = self.inbox
        // Read now, so a broken ground-truth file stops the start with its error, not a session later.
        groundTruth = volumeData != nil ? nil : try config.groundTruth.map {
            try GroundTruthObjects(path: $0, classes: config.classes, ignoreValue: config.ignoreValue)
        }
        if let truth = groundTruth, let path = config.groundTruth {
            state.categoryIDs = try CategoryIDs.matching(classes: config.classes, classesSource: config.classesSource,
                                                         categories: truth.categories, groundTruth: path)
            for entry in images { if let name = truth.fileName(forImage: entry.name) { state.groundTruthFileNames[entry.name] = name } }
        }
        let truth = groundTruth
        workers = models.enumerated().map { lane, model in
            ModelWorker(model: model, lane: lane, limits: limits, groundTruth: truth, prefetch: prefetch,
                        loader: volumes?.loader ?? ModelWorker.readImageFile) { inbox.post($0) }
        }
        if config.groundTruth != nil, volumeData == nil { state.predictions = config.predictions.map { PredictionColumn(name: $0.name) } }
        state.noc = try config.noc.map(NocCurve.load) ?? []
        state.prefetchDepth = prefetch
        self.state = state
        if let truth = config.groundTruth, volumeData == nil { scorePredictions(groundTruth: truth) }
        if let volumes {
            // A session killed between a journal record and its write left a stale file: every
            // case with work is written again from the replayed journal.
            for item in VolumeOutput(folder: config.output, library: volumes).casesWithWork(state.accepted) {
                saveVolume(volumes, slicePath: VolumeDataSet.slicePath(item.image, .axial, 0))
            }
        }
        hashCheckpoints(Set(checkpoints.compactMap { $0 }))
        go(to: start)
        if let warning = replay.warning { send(.notice(warning)) }  // a torn last record was dropped: say so
    }

    /// The SHA-256 of each checkpoint file, in the background at low priority (a 3 GB file takes
    /// seconds), so that every object records exactly which weights made it.
    private func hashCheckpoints(_ paths: Set<String>) {
        let inbox = self.inbox
        for path in paths.sorted() {
            DispatchQueue.global(qos: .background).async {
                if let digest = try? FileDigest.sha256(path: path) { inbox.post(.checkpointHashed(path: path, sha256: digest)) }
            }
        }
    }

    /// Evaluates each prediction set once, in the background on one core at low priority (the
    /// model's clicks come first), and posts what the image list, the metrics view and the
    /// failure browser show.
    private func scorePredictions(groundTruth: String) {
        let inbox = self.inbox, config = self.config
        for set in config.predictions {
            evaluationQueue.async {
                do {
                    let evaluation = try SetEvaluation.compute(groundTruth: groundTruth, predictions: set.path, classes: config.classes,
                                                               ignoreValue: config.ignoreValue, workers: 1)
                    inbox.post(.setEvaluated(set: set.name, evaluation))
                } catch {
                    inbox.post(.predictionScoresFailed(set: set.name, "\(error)"))
                }
            }
        }
    }

    private func go(to index: Int) {
        var effects: [WorkbenchEffect] = []
        Workbench.go(to: index, &state, &effects)
        perform(effects)
    }

    /// Reduces one event and carries out its effects: journal records first, so every change is
    /// on disk before the model or the screen sees it.
    public func send(_ event: WorkbenchEvent) {
        let (next, effects) = Workbench.reduce(state, event)
        state = next
        perform(effects)
    }

    private func perform(_ effects: [WorkbenchEffect]) {
        for case .record(let record) in effects {
            do {
                try journal.append(record)
            } catch {
                inbox.post(.notice("\(error)"))
            }
        }
        for effect in effects {
            switch effect {
            case .record: break
            case .open(let index, let path):
                for worker in workers { worker.open(index: index, path: volumeOpenPath(path)) }
                if let volumes { readSliceLabels(volumes, index: index, path: path) }
            case .findPhrase(let lane, let index, let phrase): workers[lane].findPhrase(index: index, phrase: phrase)
            case .prefetch(let paths): for worker in workers { worker.prefetch(paths.map(volumeOpenPath)) }
            case .decode(let lane, let request, let prompts, let previous, let multimask):
                workers[lane].decode(request: request, prompts: prompts, previous: previous, multimask: multimask)
            case .save(let image):
                if let volumes {
                    saveVolume(volumes, slicePath: image)
                    break
                }
                do {
                    try writer.save(image: image, work: state.work)
                } catch {
                    inbox.post(.notice("\(error)"))
                }
            case .exportFailures(let set, let indices):
                guard let evaluation = state.predictions[set].evaluation else { break }
                let name = state.predictions[set].name, images = state.images, truth = groundTruth, inbox = self.inbox
                let base = config.output + "/failures-" + name.map { $0.isLetter || $0.isNumber || $0 == "-" ? $0 : "_" }.map(String.init).joined()
                evaluationQueue.async {
                    do {
                        try FailureExport.write(rows: indices.map { evaluation.failures[$0] }, evaluation: evaluation, images: images,
                                                groundTruth: truth, csvPath: base + ".csv", sheetPath: base + ".png")
                        inbox.post(.notice("wrote \(indices.count) failures to \(base).csv and the first \(min(indices.count, 24)) to \(base).png"))
                    } catch {
                        inbox.post(.notice("export failed: \(error)"))
                    }
                }
            case .loadFailureMask(let set, let index):
                guard let evaluation = state.predictions[set].evaluation else { break }
                let inbox = self.inbox
                evaluationQueue.async {
                    inbox.post(.failureMask(set: set, index: index, evaluation.predictionMask(for: evaluation.failures[index])))
                }
            case .loadComparedMasks(let index, let stem, let size, let a, let b):
                let x = state.predictions[a].evaluation, y = state.predictions[b].evaluation, inbox = self.inbox
                evaluationQueue.async {
                    inbox.post(.comparedMasks(index: index, a: a, b: b, Workbench.comparedMasks(x, stem: stem, size: size),
                                              Workbench.comparedMasks(y, stem: stem, size: size)))
                }
            case .compare(let a, let b):
                guard let x = state.predictions[a].evaluation, let y = state.predictions[b].evaluation else { break }
                let inbox = self.inbox
                evaluationQueue.async {
                    do {
                        inbox.post(.compared(a: a, b: b, try SetEvaluation.compare(x, y)))
                    } catch {
                        inbox.post(.compareFailed(a: a, b: b, "\(error)"))
                    }
                }
            }
        }
    }

    /// Rewrites the label volume of the case `slicePath` belongs to, in the background, from the
    /// accepted objects as they are now (the journal already holds them).
    private func saveVolume(_ volumes: VolumeLibrary, slicePath: String) {
        let output = VolumeOutput(folder: config.output, library: volumes), inbox = self.inbox
        let accepted = state.accepted, classes = state.objectClasses
        volumeWrites.async {
            do {
                try output.save(slicePath: slicePath, accepted: accepted, objectClasses: classes)
            } catch {
                inbox.post(.notice("\(error)"))
            }
        }
    }

    /// A volume slice is opened through the window in force (the same path for an image file).
    private func volumeOpenPath(_ path: String) -> String {
        guard volumes != nil, let window = state.volume?.window else { return path }
        return VolumeLibrary.openPath(path, window: window)
    }

    /// The shown slice's window, ground truth and predictions, read in the background.
    private func readSliceLabels(_ volumes: VolumeLibrary, index: Int, path: String) {
        let inbox = self.inbox, window = state.volume?.window ?? .percentile
        evaluationQueue.async {
            do {
                if let labels = try volumes.sliceLabels(index: index, path: path, window: window) { inbox.post(.volumeSlice(labels)) }
            } catch {
                inbox.post(.notice("\(error)"))
            }
        }
    }

    /// Takes the worker's reports that arrived since the last call.
    public func drainWorker() -> Bool {
        let events = inbox.takeAll()
        for event in events { send(event) }
        return !events.isEmpty
    }

    /// Waits for the worker to finish what it was given, then takes its reports (tests).
    public func settle() {
        for worker in workers { worker.waitUntilIdle() }
        evaluationQueue.sync {}
        volumeWrites.sync {}
        _ = drainWorker()
    }

    /// Whether a worker is still preparing an image in the background (after `stop`, until it ends).
    public var isPreparingAhead: Bool { workers.contains { $0.isPreparingAhead } }

    /// Stops the workers' background preparation (the session is done).
    /// The output in the workspace's extra formats (`[output] formats`), when the session ends.
    public func exportFormats() -> [String] { writer.exportFormats(config.outputFormats) }

    public func stop() {
        for worker in workers {
            worker.stop()
            worker.waitUntilIdle()
        }
        volumeWrites.sync {}  // the last accept's label volume is on disk before the session ends
    }

    /// The kernel's estimate of a cell (window pixels over rows and columns), nil when it has no
    /// pixel size. It may differ from the terminal's exact answer by its padding, so only a change
    /// of the estimate (a font change) changes the cell size.
    private static func kernelCell() -> PixelSize? {
        guard let size = TerminalProbe.windowSize(fd: STDOUT_FILENO), size.width > 0, size.height > 0, size.rows > 0, size.columns > 0
        else { return nil }
        let cell = GraphicsDecision.cellSize(window: (size.width, size.height), rows: size.rows, columns: size.columns)
        return PixelSize(width: cell.width, height: cell.height)
    }

    /// After a resize: the new cell size when the font changed, so graphics are sized and pixel
    /// mouse reports mapped with it.
    private func takeCellSize(_ estimate: inout PixelSize?) {
        guard state.display.cellPixels != nil, let now = Self.kernelCell(), now != estimate else { return }
        if estimate != nil { send(.cellSizeChanged(now)) }
        estimate = now
    }

    /// The interactive loop: draw when something changed, wait briefly for a key, take the
    /// worker's reports. Keys are read on this thread only, so a slow model never loses one.
    public func run(terminal: CursesTerminal, debugIO: Bool = false) {
        var dirty = true
        terminal.measuresOutput = debugIO
        // Bytes sent since the last key or click: a click's cost is its own frame and the frames
        // its results bring (the mask, the IoU). Shown from the next frame on, so that showing
        // it never causes a frame of its own.
        var sinceInput = 0
        var kernelEstimate = Self.kernelCell()
        while !state.quit {
            if dirty {
                terminal.draw(Workbench.render(state, theme: theme), graphics: Workbench.graphics(state, theme: theme))
                dirty = false
                if debugIO {
                    sinceInput += terminal.lastFrameBytes
                    send(.terminalOutput(lastFrame: terminal.lastFrameBytes, sinceInput: sinceInput))
                }
            }
            if let input = terminal.read(timeoutMilliseconds: 25) {
                sinceInput = 0
                // What came with it (a click's press and release, a pasted run of keys, a window
                // dragged) makes one frame, not one each: over SSH every frame costs bytes.
                var next: InputEvent? = input, taken = 0
                while let event = next {
                    if case .resize = event { takeCellSize(&kernelEstimate) }
                    send(.input(event))
                    taken += 1
                    next = taken < 64 ? terminal.read(timeoutMilliseconds: 0) : nil  // at most 64 before a frame
                }
                dirty = true
            }
            if drainWorker() { dirty = true }
            // The seconds a heavy encoder has been preparing: a frame only when a shown number changes.
            if state.lanes.contains(where: { $0.activity == .preparing || $0.preparingSince != nil }) {
                let before = state.lanes.map(\.preparingSeconds)
                send(.clock(milliseconds: Int(DispatchTime.now().uptimeNanoseconds / 1_000_000)))
                if state.lanes.map(\.preparingSeconds) != before { dirty = true }
            }
        }
        terminal.finishGraphics()
        stop()
    }
}
