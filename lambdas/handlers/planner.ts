/**
 * Placeholder entry point so that the CDK app synthesizes before the real handler lands
 * (issue 8c writes it; the lead takes that version at merge). It fails every invocation
 * loudly rather than pretending to work.
 */
export async function handler(): Promise<never> {
  throw new Error("handler not built yet");
}
