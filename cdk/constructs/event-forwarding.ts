/**
 * EC2 events of other regions reach the home region's rules: EventBridge sends events only
 * to its own region's rules, and spot interruption warnings of a worker in another region
 * must still trigger a pass (checkpoint and replace within the two-minute notice).
 *
 * - `EventForwardingRole` (home stack; IAM is global): a role EventBridge assumes, allowed
 *   only `events:PutEvents` on the home region's default bus;
 * - `EventForwardingRule` (regional stack): the same three EC2 detail types as the home
 *   rules (event-rules.ts), sent to the home default bus with that role. Forwarded events
 *   keep their source and region, so the home rule matches them as its own.
 */
import { EventBus, Rule } from "aws-cdk-lib/aws-events";
import { EventBus as EventBusTarget } from "aws-cdk-lib/aws-events-targets";
import { PolicyStatement, Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Construct } from "constructs";
import { eventForwardingRoleName, homeEventBusArn } from "../deployment-names.ts";
import { EC2_EVENT_DETAIL_TYPES } from "./event-rules.ts";

export interface EventForwardingProps {
  readonly stackName: string;
  readonly homeRegion: string;
}

export class EventForwardingRole extends Construct {
  readonly role: Role;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    this.role = new Role(this, "Role", {
      roleName: eventForwardingRoleName(props.stackName, props.homeRegion),
      assumedBy: new ServicePrincipal("events.amazonaws.com"),
      description: "Saturn: EventBridge in other regions forwards EC2 events of Saturn workers to the home bus",
    });
    this.role.addToPolicy(
      new PolicyStatement({
        sid: "PutEventsOnTheHomeBus",
        actions: ["events:PutEvents"],
        resources: [homeEventBusArn(props.homeRegion)],
      }),
    );
  }
}

export class EventForwardingRule extends Construct {
  readonly rule: Rule;

  constructor(scope: Construct, id: string, props: EventForwardingProps) {
    super(scope, id);
    const role = Role.fromRoleName(this, "Role", eventForwardingRoleName(props.stackName, props.homeRegion), {
      mutable: false,
    });
    const homeBus = EventBus.fromEventBusArn(this, "HomeBus", homeEventBusArn(props.homeRegion));
    this.rule = new Rule(this, "Ec2Events", {
      description: `Saturn: EC2 spot interruption, rebalance and state-change events to the home region (${props.homeRegion})`,
      eventPattern: { source: ["aws.ec2"], detailType: [...EC2_EVENT_DETAIL_TYPES] },
      targets: [new EventBusTarget(homeBus, { role })],
    });
  }
}
