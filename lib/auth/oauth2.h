#ifndef ROSTER_OAUTH2_H
#define ROSTER_OAUTH2_H

#include "core/buf.h"
#include "net/fetch.h"

/* OAuth 2.0 client credentials (RFC 6749 section 4.4). The client
 * authenticates with HTTP Basic first (the RFC's preference); when the
 * server rejects that with 400 or 401 invalid_client, the credentials are
 * sent in the form body instead (some vendors accept only that). The
 * access token is written into token (the caller owns and wipes it).
 * The error_description of a refusal is added to e->msg up to its first
 * line break (Microsoft appends trace lines); a hint set by the source's
 * explain hook is kept, otherwise a generic one names the client id. */
struct oauth2_token {
	struct buf access_token;
	double expires_at; /* epoch seconds; 0 when the server did not say */
	int used_body_auth; /* 1 when the fallback was needed */
};

void oauth2_token_init(struct oauth2_token *t);
/* Wipes the token's bytes before freeing them. */
void oauth2_token_free(struct oauth2_token *t);

int oauth2_client_credentials(struct source *s, const char *token_url, const char *client_id,
			      const char *client_secret, const char *scope,
			      struct oauth2_token *t, struct rt_err *e);
/* The same with the credentials in the form body only (client_secret_post),
 * for token endpoints that document only that form (Microsoft identity
 * platform): one request, no Basic attempt. */
int oauth2_client_credentials_form(struct source *s, const char *token_url,
				   const char *client_id, const char *client_secret,
				   const char *scope, struct oauth2_token *t, struct rt_err *e);

#endif
