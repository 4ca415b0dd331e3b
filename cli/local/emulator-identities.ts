/**
 * Who may call the local stack's API, and who they are. The router needs each access key's
 * secret to check signatures (API Gateway asks IAM; moto keeps no secrets it will hand
 * back), so keys are registered here: the IAM users `saturn local` creates in the emulator,
 * and the caller's own credentials from the standard chain. The principal ARN of a key is
 * what the emulator's STS GetCallerIdentity answers when called with that key (moto maps
 * keys of its IAM users to their ARNs).
 */
import { CreateAccessKeyCommand, CreateUserCommand, IAMClient } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import type { AwsCredentialIdentity } from "@smithy/types";
import type { CallerIdentity } from "./api-router.ts";

export interface EmulatorConnection {
  readonly endpoint: string;
  readonly region: string;
}

export class EmulatorIdentities {
  readonly #emulator: EmulatorConnection;
  readonly #secrets = new Map<string, string>();
  readonly #identities = new Map<string, Promise<CallerIdentity>>();

  constructor(emulator: EmulatorConnection) {
    this.#emulator = emulator;
  }

  register(credentials: Pick<AwsCredentialIdentity, "accessKeyId" | "secretAccessKey">): void {
    this.#secrets.set(credentials.accessKeyId, credentials.secretAccessKey);
  }

  /** Creates an IAM user in the emulator with an access key, registers the key and returns it. */
  async createUser(userName: string): Promise<AwsCredentialIdentity & { readonly arn: string }> {
    const iam = new IAMClient({ ...this.#emulator, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    try {
      const user = await iam.send(new CreateUserCommand({ UserName: userName }));
      const key = await iam.send(new CreateAccessKeyCommand({ UserName: userName }));
      const accessKeyId = key.AccessKey?.AccessKeyId;
      const secretAccessKey = key.AccessKey?.SecretAccessKey;
      if (accessKeyId === undefined || secretAccessKey === undefined) {
        throw new Error(`Expected CreateAccessKey for ${userName} to return a key pair, got none`);
      }
      this.register({ accessKeyId, secretAccessKey });
      return { accessKeyId, secretAccessKey, arn: user.User?.Arn ?? "" };
    } finally {
      iam.destroy();
    }
  }

  readonly secretOf = async (accessKeyId: string): Promise<string | undefined> => this.#secrets.get(accessKeyId);

  readonly identityOf = (accessKeyId: string): Promise<CallerIdentity> => {
    let identity = this.#identities.get(accessKeyId);
    if (identity === undefined) {
      identity = this.#lookUp(accessKeyId);
      this.#identities.set(accessKeyId, identity);
      identity.catch(() => this.#identities.delete(accessKeyId));
    }
    return identity;
  };

  async #lookUp(accessKeyId: string): Promise<CallerIdentity> {
    const secretAccessKey = this.#secrets.get(accessKeyId);
    if (secretAccessKey === undefined) throw new Error(`Expected a registered access key, got '${accessKeyId}'`);
    const sts = new STSClient({ ...this.#emulator, credentials: { accessKeyId, secretAccessKey } });
    try {
      const answer = await sts.send(new GetCallerIdentityCommand({}));
      if (answer.Arn === undefined || answer.Account === undefined) {
        throw new Error(
          `Expected GetCallerIdentity to name the caller of ${accessKeyId}, got ${JSON.stringify(answer)}`,
        );
      }
      return { arn: answer.Arn, accountId: answer.Account, userId: answer.UserId ?? accessKeyId };
    } finally {
      sts.destroy();
    }
  }
}
