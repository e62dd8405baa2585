// The person behind an oidc-provider used in tests: at its interaction page, signs in as
// `loginAs`, then consents to every scope and resource asked (or declines). Shared by the test
// providers (upstream-idp.ts, login-idp.ts).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';

export interface PersonState {
  readonly loginAs: string;
  readonly decline?: boolean;
}

/** Serves the provider's /interaction/ pages as the person would answer them. */
export function playPerson(provider: Provider, state: PersonState, req: IncomingMessage, res: ServerResponse): void {
  void (async () => {
    try {
      const details = await provider.interactionDetails(req, res);
      if (details.prompt.name === 'login') {
        await provider.interactionFinished(req, res, { login: { accountId: state.loginAs } }, { mergeWithLastSubmission: false });
        return;
      }
      if (state.decline) {
        await provider.interactionFinished(req, res, { error: 'access_denied', error_description: 'the person declined' }, { mergeWithLastSubmission: false });
        return;
      }
      const grant = new provider.Grant({ accountId: details.session!.accountId!, clientId: String(details.params.client_id) });
      for (const scope of details.prompt.details.missingOIDCScope ?? []) grant.addOIDCScope(scope);
      for (const [indicator, scopes] of Object.entries(details.prompt.details.missingResourceScopes ?? {})) for (const scope of scopes) grant.addResourceScope(indicator, scope);
      await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    } catch (error) {
      res.writeHead(500).end(String(error));
    }
  })();
}
