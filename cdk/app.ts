/** The CDK app's entry point (`cdk.json`: `npx tsx cdk/app.ts`). */
import { buildApp } from "./saturn-app.ts";

buildApp().app.synth();
