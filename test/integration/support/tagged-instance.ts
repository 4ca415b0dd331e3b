/** A bare instance with the given tags, launched in moto outside any plan (what the sweeper must find). */
import { DescribeImagesCommand, type EC2Client, RunInstancesCommand } from "@aws-sdk/client-ec2";

export async function launchTaggedInstance(ec2: EC2Client, tags: Readonly<Record<string, string>>): Promise<string> {
  const image = (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images?.[0]?.ImageId;
  const answer = await ec2.send(
    new RunInstancesCommand({
      ImageId: image,
      InstanceType: "g5.xlarge",
      MinCount: 1,
      MaxCount: 1,
      TagSpecifications: [
        { ResourceType: "instance", Tags: Object.entries(tags).map(([Key, Value]) => ({ Key, Value })) },
      ],
    }),
  );
  return answer.Instances?.[0]?.InstanceId ?? "";
}
