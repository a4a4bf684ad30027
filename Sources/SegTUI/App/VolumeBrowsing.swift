import Foundation
import SegCore

/// The workbench on a volume data set: which window the slices are shown through, the shown
/// slice's ground truth and predictions, and the moves between slices, planes and cases. Each
/// slice is one entry of the image list (`VolumeDataSet.entries`), so prompting, accepting,
/// the journal and its replay are the images' own; this adds only what volumes need.
public struct VolumeBrowsing: Sendable {
    public var dataSet: VolumeDataSet
    public var window: VolumeWindow
    /// The shown slice's labels and window in numbers, once the runtime has read them.
    public var shown: SliceLabels?
    /// Where the cursor goes when slice `index` is shown: the voxel it was on in the last plane.
    public var pendingCursor: (index: Int, pixel: PixelPoint)?

    public init(dataSet: VolumeDataSet) {
        self.dataSet = dataSet
        window = VolumeWindow.cycle(ct: dataSet.isCT)[0]
    }
}

extension Workbench {
    /// The volume actions of the main view (without a volume data set they say so).
    static func performVolume(_ action: WorkbenchAction, _ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let volume = s.volume, let (c, plane, k) = volume.dataSet.locate(s.current) else {
            s.message = "\(action.rawValue.replacingOccurrences(of: "_", with: " ")): only for volumes (open a folder of .nii/.nii.gz)"
            return
        }
        let data = volume.dataSet
        switch action {
        case .nextSlice, .previousSlice:
            let step = action == .nextSlice ? 1 : -1
            if let index = data.index(case: c, plane: plane, slice: k + step) {
                go(to: index, &s, &effects)
            } else {
                s.message = step > 0 ? "last \(plane.rawValue) slice" : "first \(plane.rawValue) slice"
            }
        case .cycleAxis:
            // The next plane through the voxel under the cursor, so the structure being looked at stays in view.
            let voxel = data.cases[c].view(plane).voxel(column: s.cursor.x, row: s.cursor.y, slice: k)
            let next = plane.next
            guard let index = data.index(case: c, plane: next, slice: voxel[next.axes.fixed]) else { break }
            go(to: index, &s, &effects)
            let p = data.cases[c].view(next).pixel(of: voxel)
            s.volume?.pendingCursor = (index, PixelPoint(x: p.column, y: p.row))
        case .nextCase, .previousCase:
            let other = c + (action == .nextCase ? 1 : -1)
            guard data.cases.indices.contains(other) else { s.message = action == .nextCase ? "last case" : "first case"; return }
            let middle = data.cases[other].size[plane.axes.fixed] / 2
            if let index = data.index(case: other, plane: plane, slice: middle) { go(to: index, &s, &effects) }
        case .cycleWindow:
            let cycle = VolumeWindow.cycle(ct: data.isCT)
            let next = cycle[((cycle.firstIndex(of: volume.window) ?? 0) + 1) % cycle.count]
            commit(.window(name: next.rawValue), &s, &effects)  // journalled: a restart keeps the window
            s.message = "window \(next.title)"
            reopenSlice(&s, &effects)
        default:
            break
        }
    }

    /// Loads the shown slice again (another window: another image for the models). The prompts
    /// stay and are decoded again once the models have prepared the new image.
    static func reopenSlice(_ s: inout WorkbenchState, _ effects: inout [WorkbenchEffect]) {
        guard let entry = s.currentEntry else { return }
        s.unloadImage()
        effects.append(.open(index: s.current, path: entry.path))
    }

    /// The cursor for a slice just loaded, when a plane change left one for it.
    static func volumeCursor(_ index: Int, _ s: inout WorkbenchState) -> PixelPoint? {
        guard let pending = s.volume?.pendingCursor, pending.index == index else { return nil }
        s.volume?.pendingCursor = nil
        return pending.pixel
    }

    static func showSliceLabels(_ labels: SliceLabels, _ s: inout WorkbenchState) {
        guard labels.index == s.current, s.volume != nil else { return }
        s.volume?.shown = labels
    }

    /// The ground truth outlined in its class colours and every prediction set filled faintly in
    /// them, under the accepted objects and the mask being made: where the sets agree the fill is
    /// deeper, where one alone has a structure it is faint (the status line names each set's).
    static func volumeOverlays(_ s: WorkbenchState, theme: Theme) -> [MaskOverlay] {
        guard let shown = s.volume?.shown, shown.index == s.current, let size = s.image?.size else { return [] }
        let opacity = WorkbenchState.opacitySteps[s.opacityStep]
        func key(_ name: String) -> String? { s.imageGeneration > 0 ? "volume \(name) on image \(s.imageGeneration)" : nil }
        func color(_ label: SliceLabelMask) -> RGB { theme.classColor(max(0, s.objectClasses.firstIndex(of: label.className) ?? Int(label.value) - 1)) }
        var out: [MaskOverlay] = []
        for (k, set) in shown.predictions.enumerated() {
            for label in set.masks where label.mask.size == size {
                out.append(MaskOverlay(mask: label.mask, fill: color(label), fillOpacity: opacity * 0.5, boundary: color(label),
                                       boundaryOpacity: 0, cacheKey: key("prediction \(k) \(label.value)")))
            }
        }
        for label in shown.truth where label.mask.size == size {
            out.append(MaskOverlay(mask: label.mask, fill: color(label), fillOpacity: 0, boundary: color(label), boundaryOpacity: 1,
                                   cacheKey: key("truth \(label.value)")))
        }
        return out
    }

    /// The status line's volume parts with their priorities (see `statusText`): case, plane and
    /// slice k/n first; then the window, what the slice holds, the voxel spacing and orientation.
    static func volumeStatus(_ s: WorkbenchState) -> [(text: String, priority: Int)]? {
        guard let volume = s.volume, let (c, plane, k) = volume.dataSet.locate(s.current) else { return nil }
        let item = volume.dataSet.cases[c]
        var parts: [(text: String, priority: Int)] = [
            ("\(item.name) (\(c + 1)/\(volume.dataSet.cases.count)) \(plane.rawValue) \(k + 1)/\(item.size[plane.axes.fixed])", 9)
        ]
        let shown = volume.shown.flatMap { $0.index == s.current ? $0 : nil }
        if let shown {
            parts.append(("W\(Self.number(shown.window.width))/L\(Self.number(shown.window.level)) \(volume.window.title)", 7))
        } else {
            parts.append((volume.window.title, 7))
        }
        parts.append((item.spacing.map { String(format: "%.2f", $0) }.joined(separator: "x") + " mm " + item.orientation, 4))
        if let shown {
            let truth = shown.truth.map(\.className)
            if !truth.isEmpty { parts.append(("GT " + truth.joined(separator: ","), 3)) }
            for set in shown.predictions where !set.masks.isEmpty {
                parts.append(("\(set.name) " + set.masks.map(\.className).joined(separator: ","), 2))
            }
        }
        return parts
    }

    static func number(_ x: Double) -> String { x == x.rounded() && abs(x) < 1e9 ? String(Int(x)) : String(format: "%.1f", x) }
}
