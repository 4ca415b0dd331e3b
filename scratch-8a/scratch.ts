import { App } from "aws-cdk-lib";
import { buildApp } from "/work/wt-8a/cdk/saturn-app.ts";
const app = new App({ outdir: "/tmp/8a/out", context: { "aws:cdk:bundling-stacks": [], vpcId: "vpc-0123456789abcdef0", subnetIds: "subnet-0123456789abcdef0" } });
buildApp(app);
const t0 = Date.now();
try { app.synth(); console.log("synth ok"); } catch (e) { console.log("THROWN", String(e).slice(0, 3000)); }
console.log(Date.now() - t0, "ms");
