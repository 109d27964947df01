// Optional Okta SAML sign-in to Connect, as in the guides ../shared/seeds/001 (Okta) and
// 003 (IAM side): an IAM SAML identity provider from the IdP metadata, and a role the
// Okta AWS app assumes whose only right is a Connect federation token for the Connect
// user named like the role session (the Okta login).
import { CfnOutput, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';

export interface SamlFederationProps {
  providerName: string;
  /** Okta's IdP metadata XML. */
  metadataFile: string;
  instanceArn: string;
  instanceId: string;
  /** The Connect instance's Region (the Relay State URL names it). */
  region: string;
}

export function addSamlFederation(scope: Construct, props: SamlFederationProps): void {
  const provider = new iam.SamlProvider(scope, 'OktaSamlProvider', {
    name: props.providerName,
    metadataDocument: iam.SamlMetadataDocument.fromFile(props.metadataFile),
  });
  // SamlConsolePrincipal: sts:AssumeRoleWithSAML, audience https://signin.aws.amazon.com/saml.
  const role = new iam.Role(scope, 'ConnectFederationRole', {
    description: 'Assumed through Okta SAML; opens the Connect CCP as the matching Connect user',
    assumedBy: new iam.SamlConsolePrincipal(provider),
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['connect:GetFederationToken'],
      // ${aws:userid} is an IAM policy variable (role-id:session-name), not a CDK token.
      resources: [`${props.instanceArn}/user/\${aws:userid}`],
    }),
  );

  const stack = Stack.of(scope);
  new CfnOutput(stack, 'SamlProviderArn', {
    description: 'Okta AWS app: Identity Provider ARN',
    value: provider.samlProviderArn,
  });
  new CfnOutput(stack, 'FederationRoleArn', { value: role.roleArn });
  new CfnOutput(stack, 'OktaRoleAttribute', {
    description: 'Okta AWS app: value of the https://aws.amazon.com/SAML/Attributes/Role attribute',
    value: `${role.roleArn},${provider.samlProviderArn}`,
  });
  new CfnOutput(stack, 'SamlRelayState', {
    description: 'Okta AWS app: Default Relay State (opens the Contact Control Panel)',
    value: `https://${props.region}.console.aws.amazon.com/connect/federate/${props.instanceId}?destination=%2Fconnect%2Fccp`,
  });
}
