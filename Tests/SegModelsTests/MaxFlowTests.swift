import Testing
@testable import SegModels
import SegCore
import SegEval

@Suite("Max-flow (Boykov–Kolmogorov)")
struct MaxFlowTests {
    struct Problem {
        var n: Int
        var edges: [(Int, Int)]
        var forward: [Float]
        var backward: [Float]
        var source: [Float]
        var sink: [Float]

        /// The cost of a labelling: terminal links cut plus arcs from the source side to the sink side.
        func cost(_ sourceSide: [Bool]) -> Double {
            var c = 0.0
            for i in 0..<n { c += Double(sourceSide[i] ? sink[i] : source[i]) }
            for (k, (u, v)) in edges.enumerated() {
                if sourceSide[u] && !sourceSide[v] { c += Double(forward[k]) }
                if sourceSide[v] && !sourceSide[u] { c += Double(backward[k]) }
            }
            return c
        }

        func bruteForceMinimum() -> Double {
            var best = Double.infinity
            for bits in 0..<(1 << n) {
                let labels = (0..<n).map { bits & (1 << $0) != 0 }
                best = min(best, cost(labels))
            }
            return best
        }

        func solve() -> (flow: Double, cut: [Bool]) {
            let (topology, arcs) = FlowTopology.fromEdges(nodeCount: n, edges: edges)
            let solver = MaxFlowSolver(topology: topology)
            for (k, pair) in arcs.enumerated() {
                solver.capacity[pair.forward] += forward[k]
                solver.capacity[pair.backward] += backward[k]
            }
            for i in 0..<n { solver.addTerminal(i, source: source[i], sink: sink[i]) }
            let flow = solver.solve()
            return (flow, (0..<n).map { solver.isSource($0) })
        }
    }

    static func randomProblem(_ rng: inout SeededGenerator, n: Int, density: Double) -> Problem {
        var edges: [(Int, Int)] = []
        for u in 0..<n { for v in (u + 1)..<n where Double.random(in: 0..<1, using: &rng) < density { edges.append((u, v)) } }
        // Parallel edges exercise arcs that share both ends.
        if n > 1 && Bool.random(using: &rng) { edges.append((0, 1)) }
        func cap(_ zeroChance: Double) -> Float {
            Double.random(in: 0..<1, using: &rng) < zeroChance ? 0 : Float(Int.random(in: 1...20, using: &rng))
        }
        return Problem(n: n, edges: edges,
                       forward: edges.map { _ in cap(0.2) }, backward: edges.map { _ in cap(0.4) },
                       source: (0..<n).map { _ in cap(0.5) }, sink: (0..<n).map { _ in cap(0.5) })
    }

    @Test("flow equals the brute-force minimum cut, and the cut found has that cost", arguments: 0..<6)
    func bruteForce(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) * 7919 + 1)
        for trial in 0..<250 {
            let n = Int.random(in: 1...11, using: &rng)
            let problem = Self.randomProblem(&rng, n: n, density: [0.2, 0.5, 0.9][trial % 3])
            let expected = problem.bruteForceMinimum()
            let (flow, cut) = problem.solve()
            #expect(abs(flow - expected) < 1e-6, "seed \(seed) trial \(trial): flow \(flow) vs \(expected)")
            #expect(abs(problem.cost(cut) - expected) < 1e-6, "seed \(seed) trial \(trial): cut cost \(problem.cost(cut)) vs \(expected)")
        }
    }

    @Test("after changing capacities of a solved graph, solving again gives a minimum cut of the new graph", arguments: 0..<4)
    func dynamicUpdates(seed: Int) {
        var rng = SeededGenerator(seed: UInt64(seed) * 104_729 + 5)
        for trial in 0..<150 {
            let n = Int.random(in: 2...10, using: &rng)
            var problem = Self.randomProblem(&rng, n: n, density: 0.5)
            let (topology, arcs) = FlowTopology.fromEdges(nodeCount: n, edges: problem.edges)
            let solver = MaxFlowSolver(topology: topology)
            for (k, pair) in arcs.enumerated() {
                solver.capacity[pair.forward] += problem.forward[k]
                solver.capacity[pair.backward] += problem.backward[k]
            }
            for i in 0..<n { solver.addTerminal(i, source: problem.source[i], sink: problem.sink[i]) }
            // Several rounds of edits, each followed by a warm solve.
            for round in 0..<3 {
                solver.solve()
                let cut = (0..<n).map { solver.isSource($0) }
                #expect(abs(problem.cost(cut) - problem.bruteForceMinimum()) < 1e-4, "seed \(seed) trial \(trial) round \(round)")
                for k in problem.edges.indices where Bool.random(using: &rng) {
                    let f = Float(Int.random(in: 0...20, using: &rng)), b = Float(Int.random(in: 0...20, using: &rng))
                    solver.changeCapacity(arc: arcs[k].forward, by: f - problem.forward[k])
                    solver.changeCapacity(arc: arcs[k].backward, by: b - problem.backward[k])
                    problem.forward[k] = f; problem.backward[k] = b
                }
                for i in 0..<n where Bool.random(using: &rng) {
                    let so = Float(Int.random(in: 0...20, using: &rng)), si = Float(Int.random(in: 0...20, using: &rng))
                    solver.terminal[i] += (so - si) - (problem.source[i] - problem.sink[i])
                    problem.source[i] = so; problem.sink[i] = si
                }
            }
            solver.solve()
            let cut = (0..<n).map { solver.isSource($0) }
            #expect(abs(problem.cost(cut) - problem.bruteForceMinimum()) < 1e-4, "seed \(seed) trial \(trial) final")
        }
    }

    @Test("a grid with fractional capacities: the cut's cost equals the flow")
    func fractionalGrid() {
        var rng = SeededGenerator(seed: 42)
        let w = 40, h = 30
        var edges: [(Int, Int)] = []
        for y in 0..<h { for x in 0..<w {
            if x + 1 < w { edges.append((y * w + x, y * w + x + 1)) }
            if y + 1 < h { edges.append((y * w + x, (y + 1) * w + x)) }
            if x + 1 < w && y + 1 < h { edges.append((y * w + x, (y + 1) * w + x + 1)) }
        } }
        let caps = edges.map { _ in Float.random(in: 0..<3, using: &rng) }
        let problem = Problem(n: w * h, edges: edges, forward: caps, backward: caps,
                              source: (0..<(w * h)).map { _ in Float.random(in: 0..<4, using: &rng) },
                              sink: (0..<(w * h)).map { _ in Float.random(in: 0..<4, using: &rng) })
        let (flow, cut) = problem.solve()
        #expect(abs(problem.cost(cut) - flow) < 1e-3 * max(1, flow))
        // Flipping any single node cannot lower the cost of a minimum cut.
        for i in stride(from: 0, to: w * h, by: 37) {
            var other = cut; other[i].toggle()
            #expect(problem.cost(other) >= problem.cost(cut) - 1e-3)
        }
    }
}
