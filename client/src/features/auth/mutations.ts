import { gql } from "urql";

export const LoginMutation = gql`
  mutation Login($email: String!, $password: String!) {
    login(input: { email: $email, password: $password }) {
      userId
      organizationId
    }
  }
`;

export const RegisterMutation = gql`
  mutation Register($email: String!, $name: String!, $password: String!, $invitationToken: String) {
    register(input: { email: $email, name: $name, password: $password, invitationToken: $invitationToken }) {
      userId
      organizationId
    }
  }
`;

export const AcceptInvitationMutation = gql`
  mutation AcceptInvitation($token: String!) {
    acceptInvitation(input: { token: $token }) {
      membership {
        organizationId
        role
      }
    }
  }
`;

export const SwitchOrganizationMutation = gql`
  mutation SwitchTo($organizationId: UUID!) {
    switchOrganization(input: { organizationId: $organizationId }) {
      organizationId
    }
  }
`;

export const ChangePasswordMutation = gql`
  mutation ChangePassword($oldPassword: String!, $newPassword: String!) {
    changePassword(input: { oldPassword: $oldPassword, newPassword: $newPassword }) {
      changed
    }
  }
`;
