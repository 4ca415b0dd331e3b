import { describe, expect, it } from "vitest";
import { InvalidWorkloadError } from "../../../lambdas/core/errors.ts";
import { parseWorkload, pluginOf } from "../../../lambdas/core/spec/workload.ts";

const plugin = { name: "ddp-accumulate", module: "s3://saturn-plugins/accumulation_plugin.py" };
const job = { id: "a", model: "gpt2-xl", batchSize: 16, work: { samples: 1000 } };
const spec = (extra: Record<string, unknown>, jobs: unknown[] = [job]) => ({
  name: "plugins",
  objective: { kind: "min-cost", deadlineHours: 24 },
  jobs,
  ...extra,
});

function issuesOf(data: unknown): { path: string; message: string }[] {
  try {
    parseWorkload(data);
  } catch (error) {
    if (error instanceof InvalidWorkloadError) return [...error.issues];
    throw error;
  }
  throw new Error("expected the workload to be rejected");
}

describe("plug-in techniques in a workload spec", () => {
  it("lets a job list a declared plug-in next to the built-ins", () => {
    const workload = parseWorkload(spec({ plugins: [plugin] }, [{ ...job, techniques: ["ddp", "ddp-accumulate"] }]));
    expect(workload.plugins).toEqual([plugin]);
    expect(workload.jobs[0]?.techniques).toEqual(["ddp", "ddp-accumulate"]);
    expect(pluginOf(workload, "ddp-accumulate")).toEqual(plugin);
    expect(pluginOf(workload, "ddp")).toBeUndefined();
  });

  it("keeps the built-ins as the default techniques, plug-ins only where a job lists them", () => {
    const workload = parseWorkload(spec({ plugins: [plugin] }));
    expect(workload.jobs[0]?.techniques).toEqual(["ddp", "fsdp", "fsdp-offload", "pipeline"]);
  });

  it("accepts an https location and a dotted module name", () => {
    const workload = parseWorkload(
      spec({
        plugins: [
          { name: "a", module: "https://example.org/plugins/a.py" },
          { name: "b", module: "my_plugins.spilling" },
        ],
      }),
    );
    expect(workload.plugins?.map((p) => p.module)).toEqual(["https://example.org/plugins/a.py", "my_plugins.spilling"]);
  });

  it("names the technique a job lists that no plug-in declares", () => {
    expect(issuesOf(spec({}, [{ ...job, techniques: ["ddp", "zero3"] }]))).toEqual([
      {
        path: "jobs[0].techniques[1]",
        message:
          'expected one of ddp, fsdp, fsdp-offload, pipeline (a plug-in technique must be declared in plugins), got "zero3"',
      },
    ]);
    expect(issuesOf(spec({ plugins: [plugin] }, [{ ...job, techniques: ["zero3"] }]))[0]?.message).toBe(
      'expected one of ddp, fsdp, fsdp-offload, pipeline, ddp-accumulate (built-ins and the plug-ins declared in plugins), got "zero3"',
    );
  });

  it("rejects a plug-in that takes a built-in's name or another plug-in's", () => {
    const issues = issuesOf(spec({ plugins: [plugin, { ...plugin }, { name: "fsdp", module: "x.y" }] }));
    expect(issues).toEqual([
      {
        path: "plugins[1].name",
        message:
          "expected a unique plug-in name; 'ddp-accumulate' is already declared by plugins[0], got \"ddp-accumulate\"",
      },
      {
        path: "plugins[2].name",
        message: 'expected a name other than the built-in techniques (ddp, fsdp, fsdp-offload, pipeline), got "fsdp"',
      },
    ]);
  });

  it("names a plug-in field of the wrong shape, what was expected and what came", () => {
    const issues = issuesOf(spec({ plugins: [{ name: "bad name", module: "./local.py", extra: 1 }] }));
    expect(issues.map((issue) => issue.path).sort()).toEqual([
      "plugins[0].extra",
      "plugins[0].module",
      "plugins[0].name",
    ]);
    const module = issues.find((issue) => issue.path === "plugins[0].module");
    expect(module?.message).toContain("expected an s3:// or https:// location of a .py file");
    expect(module?.message).toContain('got "./local.py"');
  });
});
