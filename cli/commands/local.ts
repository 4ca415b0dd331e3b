/**
 * `saturn local [--port N] [--time-scale X] [--seed N] [--no-spot-interruptions]
 * [--regions us-east-1,us-west-2]`: the whole control plane on an emulator
 * (cli/local/local-stack.ts), until Ctrl-C. Prints the API's URL, a key the router
 * accepts, and the command that submits to it. `--regions` also deploys a regional stack
 * into each other region, so specs may plan and launch there.
 *
 * With AWS_ENDPOINT_URL set (LocalStack), the stack is deployed there instead and
 * LocalStack's own API Gateway, Lambda and EventBridge serve it: the command prints the
 * stack's ApiUrl and exits. (Not exercised here: no LocalStack on these machines.)
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { Command } from "commander";
import { deployToEmulator } from "../../cdk/emulator-deployment.ts";
import { OUTPUTS } from "../../lambdas/config/stack-contract.ts";
import { InvalidWorkloadError } from "../../lambdas/core/errors.ts";
import type { Observability } from "../../lambdas/handlers/observability.ts";
import { LOCAL_REGION, LocalStack } from "../local/local-stack.ts";

interface LocalOptions {
  readonly port: string;
  readonly timeScale: string;
  readonly seed: string;
  readonly spotInterruptions: boolean;
  readonly logLevel: string;
  readonly regions?: string;
}

const AWS_REGION = /^[a-z]{2}(-gov)?-[a-z]+-\d$/;

/** `--regions a,b`: the home region (us-east-1) is always covered; every entry must be a region. */
function regionsOption(value: string | undefined): readonly string[] | undefined {
  if (value === undefined) return undefined;
  const regions = value
    .split(",")
    .map((region) => region.trim())
    .filter((region) => region !== "");
  const bad = regions.find((region) => !AWS_REGION.test(region));
  if (regions.length === 0 || bad !== undefined) {
    throw new InvalidWorkloadError(
      [
        {
          path: "--regions",
          message: `expected comma-separated AWS regions such as us-east-1,us-west-2, got '${value}'`,
        },
      ],
      { subject: "command line" },
    );
  }
  return [LOCAL_REGION, ...regions.filter((region) => region !== LOCAL_REGION)];
}

export function registerLocalCommand(program: Command): void {
  program
    .command("local")
    .description("run the whole control plane on the moto emulator, serving the API on 127.0.0.1")
    .option("--port <n>", "port of the API (0: a free one)", "0")
    .option("--time-scale <x>", "virtual seconds per real second (workers, schedule, control-plane clock)", "600")
    .option("--seed <n>", "seed of the simulated workers (throughput, interruptions)", "1")
    .option("--no-spot-interruptions", "never interrupt spot instances")
    .option("--log-level <level>", "handlers' log level (Powertools)", "WARN")
    .option("--regions <list>", `regions the deployment covers (${LOCAL_REGION} is home), e.g. us-east-1,us-west-2`)
    .action(async (options: LocalOptions) => {
      const regions = regionsOption(options.regions);
      const port = wholeNumber(options.port, "--port");
      const seed = wholeNumber(options.seed, "--seed");
      const timeScale = Number(options.timeScale);
      if (!Number.isFinite(timeScale) || timeScale <= 0) {
        throw new InvalidWorkloadError(
          [{ path: "--time-scale", message: `expected a number > 0, got '${options.timeScale}'` }],
          { subject: "command line" },
        );
      }
      const say = (line: string) => process.stdout.write(`${line}\n`);
      const external = process.env.AWS_ENDPOINT_URL;
      if (external !== undefined && external !== "") {
        say(`AWS_ENDPOINT_URL is ${external}: deploying there and using its own API Gateway and Lambda.`);
        const deployed = await deployToEmulator({
          target: { endpoint: external, region: process.env.AWS_REGION ?? LOCAL_REGION },
          ...(regions === undefined ? {} : { regions }),
        });
        say(`API: ${deployed.outputs[OUTPUTS.apiUrl] ?? "(no ApiUrl output)"}`);
        say(
          `Submit: saturn submit examples/text-sweep.yaml --api ${deployed.outputs[OUTPUTS.apiUrl] ?? "URL"} --yes --watch`,
        );
        return;
      }
      process.env.POWERTOOLS_METRICS_DISABLED = "true";
      const observability = (name: string): Observability => ({
        logger: new Logger({ serviceName: `saturn-local-${name}`, logLevel: options.logLevel as "WARN" }),
        metrics: new Metrics({ namespace: "SaturnLocal", serviceName: `saturn-local-${name}` }),
      });
      const stack = await LocalStack.start({
        port,
        seed,
        spotInterruptions: options.spotInterruptions,
        observability,
        log: say,
        ...(regions === undefined ? {} : { regions }),
      });
      stack.runInRealTime(timeScale);
      const user = stack.user;
      say("");
      say(`Saturn API (local stack on moto): ${stack.apiUrl}`);
      say(`Virtual time runs ${timeScale}x; workers are simulated on the instances launched in moto.`);
      say(`Regions covered: ${stack.deployed.regions.join(", ")}.`);
      say("In another shell:");
      say(
        `  export SATURN_API_URL=${stack.apiUrl} AWS_REGION=${LOCAL_REGION} AWS_ACCESS_KEY_ID=${user.accessKeyId} AWS_SECRET_ACCESS_KEY=${user.secretAccessKey} AWS_ENDPOINT_URL_EC2=${stack.emulatorEndpoint}`,
      );
      say("  npx saturn submit examples/text-sweep.yaml --yes --watch");
      say("Ctrl-C stops the stack (moto's state goes with it).");
      await new Promise<void>((resolve) => {
        process.once("SIGINT", resolve);
        process.once("SIGTERM", resolve);
      });
      say("stopping the local stack...");
      await stack.stop();
    });
}

function wholeNumber(value: string, option: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number < 0) {
    throw new InvalidWorkloadError([{ path: option, message: `expected a whole number >= 0, got '${value}'` }], {
      subject: "command line",
    });
  }
  return number;
}
