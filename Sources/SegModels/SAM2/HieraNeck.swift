import SegCore
import SegNN

extension HieraEncoder {
    /// FpnNeck (1×1 laterals, nearest top-down on `fpnTopDownLevels`, sum), the scalp, conv_s0/s1,
    /// no_mem_embed.
    func neck(_ levels: [Level], ws: Workspace) -> Output {
        let d = config.neckDim, n = levels.count, kept = n - config.scalp
        let top = Set(config.fpnTopDownLevels)
        var prev: (UnsafeMutablePointer<Float>, Int)?
        var outs = [UnsafeMutablePointer<Float>?](repeating: nil, count: n)
        var hr: [UnsafeMutablePointer<Float>?] = [nil, nil]
        for i in stride(from: n - 1, through: 0, by: -1) {
            let lv = levels[i], count = lv.side * lv.side
            guard let tokens = lv.tokens else {
                // Computed at the stage's end (fusedConv).
                if i < 2 { hr[i] = lv.map }
                prev = nil
                continue
            }
            let o = ws.buffer(Self.neckSlot + i, count * d)
            lateral[i](tokens, rows: count, o)
            if top.contains(i), let (p, ps) = prev {
                // Nearest ×2: pixel (y, x) takes the coarser level's (y/2, x/2).
                Threads.parallel(lv.side) { y in
                    for x in 0..<lv.side {
                        let src = p + ((y / 2) * ps + x / 2) * d, dst = o + (y * lv.side + x) * d
                        for k in 0..<d { dst[k] += src[k] }
                    }
                }
            }
            outs[i] = o
            prev = (o, lv.side)
            if i < 2 {
                let f = i == 0 ? convS0 : convS1
                let h = ws.buffer(Self.mapSlot + i, count * f.outF)
                f(o, rows: count, h)
                hr[i] = h
            }
        }
        let embedLevel = kept - 1
        let e = outs[embedLevel] ?? ws.buffer(Self.neckSlot + embedLevel, 1)
        let count = levels[embedLevel].side * levels[embedLevel].side
        Elementwise.addBias(e, e, rows: count, dim: d, bias: noMem.pointer)
        return Output(embed: e, s1: hr[1] ?? e, s0: hr[0] ?? e)
    }
}
