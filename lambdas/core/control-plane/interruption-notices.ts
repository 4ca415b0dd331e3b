/**
 * Spot interruption warnings reach the control plane as EventBridge events (and from the
 * agent's IMDS watch), not through DescribeInstances. The EC2-event handler writes each
 * warning onto the instance as a tag, so tags stay the one truth about what runs; this
 * view of the cloud port turns that tag back into `interruptionNoticeAt`, the field the
 * reconciler acts on (checkpoint now, re-plan around the loss).
 */
import type { CloudInstance, CloudPort } from "../cloud/cloud-port.ts";

/** Tag key holding the warning's time (ISO 8601): when the cloud announced it will reclaim the instance. */
export const INTERRUPTION_NOTICE_TAG = "saturn:interruption-notice";

function withNotice(instance: CloudInstance): CloudInstance {
  if (instance.interruptionNoticeAt !== undefined) return instance;
  const tag = instance.tags[INTERRUPTION_NOTICE_TAG];
  if (tag === undefined) return instance;
  const millis = Date.parse(tag);
  return Number.isFinite(millis) ? { ...instance, interruptionNoticeAt: millis / 1000 } : instance;
}

/** The same cloud, with interruption-notice tags read as notices. */
export function cloudWithNotices(cloud: CloudPort): CloudPort {
  return {
    launch: (request) => cloud.launch(request),
    terminate: (ids) => cloud.terminate(ids),
    describe: async (tags) => (await cloud.describe(tags)).map(withNotice),
    tag: (id, tags) => cloud.tag(id, tags),
    drainEvents: () => cloud.drainEvents(),
    spendUsd: (tags) => cloud.spendUsd(tags),
  };
}
