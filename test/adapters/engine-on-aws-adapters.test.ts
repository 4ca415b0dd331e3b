/**
 * One workload through the real engine with the AWS adapters against moto: the store, the
 * EC2 fleet adapter and the workers adapter (orders in S3, events from the store). The
 * worker is played by writing its events into the store, as the ingest would.
 */
import { randomUUID } from "node:crypto";
import {
  CreateFleetCommand,
  CreateLaunchTemplateCommand,
  DescribeSubnetsCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { describe, expect, it } from "vitest";
import { AwsWorkers } from "../../lambdas/adapters/aws-workers.ts";
import { loadCatalog } from "../../lambdas/adapters/catalog-file.ts";
import { DynamoDbStore } from "../../lambdas/adapters/dynamodb-store.ts";
import { type Ec2ClientPort, Ec2FleetCloud } from "../../lambdas/adapters/ec2-fleet.ts";
import { S3Orders } from "../../lambdas/adapters/s3-orders.ts";
import { SATURN_TAGS } from "../../lambdas/core/cloud/cloud-port.ts";
import { ExecutionEngine } from "../../lambdas/core/engine/execution-engine.ts";
import { WORKER_PROTOCOL } from "../../lambdas/core/protocol/worker-protocol.ts";
import { createExecutionRecord } from "../../lambdas/core/reconciler/create-record.ts";
import { context, twoJobPlan } from "../core/reconciler/fixtures.ts";
import { smallWorkload } from "../sim/fixtures/workloads.ts";
import { emulatorClientConfig } from "../support/aws.ts";
import { createTestTable } from "../support/dynamodb-table.ts";
import { createTestBucket } from "../support/s3-bucket.ts";

/** A fresh table, bucket, launch template and engine for one workload (`ec2`: the EC2 client the adapter sends through). */
async function setup(wrapEc2: (ec2: EC2Client) => Ec2ClientPort = (ec2) => ec2) {
  const name = `eng-${randomUUID().slice(0, 8)}`;
  const workload = smallWorkload({ jobs: 2, name });
  const plan = twoJobPlan();
  const table = await createTestTable();
  const store = new DynamoDbStore({ tableName: table.tableName, client: table.client });
  const { bucketName, s3 } = await createTestBucket();
  const ec2 = new EC2Client(emulatorClientConfig());
  const subnets = await ec2.send(
    new DescribeSubnetsCommand({ Filters: [{ Name: "default-for-az", Values: ["true"] }] }),
  );
  const template = await ec2.send(
    new CreateLaunchTemplateCommand({ LaunchTemplateName: name, LaunchTemplateData: { ImageId: "ami-12c6146b" } }),
  );
  const start = Math.floor(Date.now() / 1000);
  const record = createExecutionRecord(workload, plan, start);
  const tags = { [SATURN_TAGS.workload]: record.workloadName };
  const cloud = new Ec2FleetCloud({
    region: "us-east-1",
    launchTemplateId: template.LaunchTemplate?.LaunchTemplateId ?? "",
    subnetIds: (subnets.Subnets ?? []).map((subnet) => subnet.SubnetId ?? ""),
    catalog: loadCatalog(),
    ec2: wrapEc2(ec2),
    events: { source: store, workloadId: name, sinceSeconds: start },
    ledger: { store, workloadId: name },
  });
  const workers = new AwsWorkers({
    workloadId: name,
    workload,
    plan,
    planVersion: record.planVersion,
    bucketName,
    orders: new S3Orders({ bucketName, s3 }),
    store,
    instances: () => cloud.describe(tags),
  });
  const planner = async () => {
    throw new Error("no re-plan expected in this scenario");
  };
  const engine = new ExecutionEngine({ cloud, workers, planner }, context(workload), record);

  return { name, workload, start, tags, cloud, workers, store, engine, bucketName, s3 };
}

/** The worker's `completed` event for job-1's first attempt, written as the ingest would. */
function reportJob1Completed(
  store: DynamoDbStore,
  workloadId: string,
  instanceId: string,
  at: number,
  samples: number,
) {
  return store.putWorkerEvent({
    protocol: WORKER_PROTOCOL,
    eventId: "evt-done-0001",
    workloadId,
    instanceId,
    sentAt: new Date(at * 1000).toISOString(),
    kind: "completed",
    jobId: "job-1",
    attemptId: "job-1#1",
    samples,
    finalUri: null,
  });
}

describe("ExecutionEngine on the AWS adapters", () => {
  it("launches the planned instance with its tags, orders the job, and terminates it after completion", async () => {
    const { name, workload, start, tags, cloud, workers, store, engine, bucketName, s3 } = await setup();
    // Pass 1: slot s1 (spot g5.xlarge in us-east-1a) starts at t = 0; s2 only at t = 3600.
    await engine.runPass(start + 1);
    const [launched, ...others] = await cloud.describe(tags);
    expect(others).toEqual([]);
    expect(launched).toMatchObject({ instanceType: "g5.xlarge", market: "spot", availabilityZone: "us-east-1a" });
    expect(launched?.tags).toMatchObject({
      [SATURN_TAGS.plan]: "1",
      [SATURN_TAGS.slot]: "s1",
      [SATURN_TAGS.role]: "worker",
    });

    // Pass 2: the instance runs (moto starts it at once); job-1 is ordered onto it.
    await engine.runPass(start + 300);
    const orders = await new S3Orders({ bucketName, s3 }).read(name, launched?.id ?? "");
    expect(orders?.orders.assignments.map((a) => a.attemptId)).toEqual(["job-1#1"]);
    expect((await workers.reports(["job-1"]))[0]?.attempt?.attemptId).toBe("job-1#1");

    // The worker reports completion; the next pass marks the job done and terminates s1.
    await reportJob1Completed(store, name, launched?.id ?? "", start + 600, workload.jobs[0]?.totalSamples ?? 1);
    const result = await engine.runPass(start + 700);
    expect(result.actions.map((a) => a.kind)).toEqual(expect.arrayContaining(["mark-done", "terminate"]));
    const [after] = await cloud.describe(tags);
    expect(after?.state === "shutting-down" || after?.state === "terminated").toBe(true);
    expect(engine.record.jobs["job-1"]?.status).toBe("done");
    // The agent was told to shut down as well, in case the terminate had not gone through.
    const last = await new S3Orders({ bucketName, s3 }).read(name, launched?.id ?? "");
    expect(last?.orders).toMatchObject({ shutdown: true, sequence: 1 });
  });

  it("still terminates what the pass ends when an earlier action fails, and then fails the pass", async () => {
    let failLaunches = false;
    const { name, workload, start, tags, cloud, store, engine } = await setup((ec2) => ({
      send: (command) => {
        if (failLaunches && command instanceof CreateFleetCommand) {
          return Promise.reject(new Error("injected: an unclassified EC2 error on CreateFleet"));
        }
        return ec2.send(command as Parameters<EC2Client["send"]>[0]);
      },
    }));
    await engine.runPass(start + 1);
    await engine.runPass(start + 300);
    const [launched] = await cloud.describe(tags);
    await reportJob1Completed(store, name, launched?.id ?? "", start + 600, workload.jobs[0]?.totalSamples ?? 1);
    // At t = 3600 the pass launches s2 (job-2's slot) before it terminates s1 (job-1 is done):
    // the launch fails with an error no adapter classifies.
    failLaunches = true;
    const version = engine.record.version;
    await expect(engine.runPass(start + 3600)).rejects.toThrow(/injected/);
    const [after, ...more] = await cloud.describe(tags);
    expect(more).toEqual([]);
    expect(after?.id).toBe(launched?.id);
    expect(after?.state === "shutting-down" || after?.state === "terminated").toBe(true);
    // Nothing of the failed pass was saved: the next pass decides again and launches s2.
    expect(engine.record.version).toBe(version);
    failLaunches = false;
    await engine.runPass(start + 3660);
    const live = (await cloud.describe(tags)).filter((i) => i.state !== "terminated" && i.state !== "shutting-down");
    expect(live.map((i) => i.tags[SATURN_TAGS.slot])).toEqual(["s2"]);
  });
});
