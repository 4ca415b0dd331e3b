import { App } from "aws-cdk-lib";
import { Bucket } from "aws-cdk-lib/aws-s3";
import { buildApp } from "../cdk/saturn-app.ts";
const app = new App({ outdir: "/tmp/8a/out2", context: { "aws:cdk:bundling-stacks": [], vpcId: "vpc-0123456789abcdef0", subnetIds: "subnet-0123456789abcdef0" } });
const { stack } = buildApp(app);
new Bucket(stack, "Bad");
try { app.synth(); console.log("synth ok"); } catch (e) { console.log("THROWN", String(e).slice(0, 500)); }
