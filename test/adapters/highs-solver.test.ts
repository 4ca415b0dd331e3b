import highsModule, { type Highs } from "highs";
import { describe, expect, it } from "vitest";
import { HighsSolver } from "../../lambdas/adapters/highs-solver.ts";
import type { MilpModel } from "../../lambdas/core/planner/api.ts";
import { seededRandom } from "../core/planner/fixtures.ts";

const loadHighs = highsModule as unknown as () => Promise<Highs>;

const small: MilpModel = {
  lp: [
    "Minimize",
    " obj: x + 2 y",
    "Subject To",
    " c1: x + y >= 2.5",
    "Bounds",
    " 0 <= x <= 1",
    " 0 <= y <= 10",
    "Generals",
    " x y",
    "End",
  ].join("\n"),
  columns: ["x", "y"],
};

/** A 300-item, 25-constraint multidimensional knapsack: far from solved in a fraction of a second. */
function hardKnapsack(): MilpModel {
  const random = seededRandom(7);
  const items = 300;
  const columns = Array.from({ length: items }, (_, j) => `x${j}`);
  const objective = columns.map((name) => `- ${Math.round(10 + random() * 90)} ${name}`).join(" ");
  const rows = Array.from({ length: 25 }, (_, i) => {
    const weights = columns.map((name) => `+ ${Math.round(5 + random() * 95)} ${name}`).join(" ");
    return ` cap${i}: ${weights} <= ${Math.round(items * 50 * 0.3)}`;
  });
  return {
    lp: ["Minimize", ` obj: ${objective}`, "Subject To", ...rows, "Binaries", ` ${columns.join(" ")}`, "End"].join(
      "\n",
    ),
    columns,
    initialSolution: new Map(columns.map((name) => [name, 0])),
  };
}

describe("HighsSolver", () => {
  it("solves a small MILP to optimality and reports values by column name", async () => {
    const solution = await new HighsSolver().solve(small, { timeLimitSeconds: 10, mipGap: 0 });
    expect(solution.status).toBe("optimal");
    expect(solution.objective).toBeCloseTo(5, 9);
    expect(solution.values.get("x")).toBe(1);
    expect(solution.values.get("y")).toBe(2);
    expect(solution.bound).toBeCloseTo(5, 9);
  });

  it("maps an infeasible model to 'infeasible' without values", async () => {
    const model: MilpModel = { lp: small.lp.replace(">= 2.5", ">= 20"), columns: ["x", "y"] };
    const solution = await new HighsSolver().solve(model, { timeLimitSeconds: 10, mipGap: 0 });
    expect(solution.status).toBe("infeasible");
    expect(solution.values.size).toBe(0);
  });

  it("returns the best incumbent and a proven bound when the time limit stops it", async () => {
    const solution = await new HighsSolver().solve(hardKnapsack(), { timeLimitSeconds: 1, mipGap: 0 });
    expect(solution.status).toBe("time-limit");
    expect(solution.objective).toBeLessThanOrEqual(0);
    expect(solution.bound).toBeLessThan(solution.objective ?? 0);
    expect(solution.values.size).toBe(300);
  });

  it("loads a fresh module after the WebAssembly module aborts", async () => {
    let loads = 0;
    const aborting = {
      createModel: () => {
        throw new Error("RuntimeError: Aborted(OOM)");
      },
    } as unknown as Highs;
    const solver = new HighsSolver({
      load: async () => {
        loads++;
        return loads === 1 ? aborting : loadHighs();
      },
    });
    const first = await solver.solve(small, { timeLimitSeconds: 10, mipGap: 0 });
    const second = await solver.solve(small, { timeLimitSeconds: 10, mipGap: 0 });
    expect(first.status).toBe("error");
    expect(first.message).toBe("HiGHS failed: RuntimeError: Aborted(OOM)");
    expect(second.status).toBe("optimal");
    expect(loads).toBe(2);
  });

  it("loads the module once for many solves", async () => {
    let loads = 0;
    const solver = new HighsSolver({
      load: () => {
        loads++;
        return loadHighs();
      },
    });
    await solver.solve(small, { timeLimitSeconds: 10, mipGap: 0 });
    await solver.solve(small, { timeLimitSeconds: 10, mipGap: 0 });
    expect(loads).toBe(1);
  });
});
