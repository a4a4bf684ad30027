/// Nearest colours in the terminal palettes, for terminals without 24-bit colour.
/// (Pure functions; they live beside the edge because only the edge needs them.)
public enum TerminalPalette {
    private static let cubeLevels: [Int] = [0, 95, 135, 175, 215, 255]

    /// The nearest entry of the xterm 256-colour palette: the 6×6×6 cube (16–231) or the gray ramp (232–255).
    public static func xterm256(_ c: RGB) -> Int {
        func cubeIndex(_ v: UInt8) -> Int {
            let v = Int(v)
            return v < 48 ? 0 : v < 115 ? 1 : (v - 35) / 40
        }
        let ri = cubeIndex(c.r), gi = cubeIndex(c.g), bi = cubeIndex(c.b)
        let cube = (cubeLevels[ri], cubeLevels[gi], cubeLevels[bi])
        let average = (Int(c.r) + Int(c.g) + Int(c.b)) / 3
        let grayIndex = average > 238 ? 23 : max(0, (average - 3) / 10)
        let grayLevel = 8 + grayIndex * 10
        func distance(_ a: (Int, Int, Int)) -> Int {
            let dr = a.0 - Int(c.r), dg = a.1 - Int(c.g), db = a.2 - Int(c.b)
            return dr * dr + dg * dg + db * db
        }
        if distance((grayLevel, grayLevel, grayLevel)) < distance(cube) { return 232 + grayIndex }
        return 16 + 36 * ri + 6 * gi + bi
    }

    /// The nearest of the 8 basic colours (black, red, green, yellow, blue, magenta, cyan, white).
    public static func ansi8(_ c: RGB) -> Int {
        let basics: [(Int, Int, Int)] = [(0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0),
                                         (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229)]
        var best = 0, bestDistance = Int.max
        for (i, b) in basics.enumerated() {
            let dr = b.0 - Int(c.r), dg = b.1 - Int(c.g), db = b.2 - Int(c.b)
            let d = dr * dr + dg * dg + db * db
            if d < bestDistance { best = i; bestDistance = d }
        }
        return best
    }
}
