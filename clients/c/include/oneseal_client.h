/*
 * OneSeal C SDK: unary calls over OneSeal TCP (PROTOCOL.md) with protobuf-c messages.
 *
 * Why a C SDK: it proves the protocol can be spoken from its specification alone, and it is what an
 * integrator's legacy system (a county's old case system, a self-service kiosk) links against.
 *
 * The client is blocking and single-threaded: one call at a time per connection (open several
 * connections for parallel calls). It answers pings, honours GoAway, runs each call's deadline
 * (sending Cancel when it passes) and reports transport failures as UNAVAILABLE, like the Swift
 * client. It never calls exit() or prints; every failure is a status in `oneseal_result`.
 */
#ifndef ONESEAL_CLIENT_H
#define ONESEAL_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <protobuf-c/protobuf-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* gRPC status codes used by OneSeal (PROTOCOL.md §12). */
enum {
    ONESEAL_OK = 0,
    ONESEAL_CANCELLED = 1,
    ONESEAL_UNKNOWN = 2,
    ONESEAL_INVALID_ARGUMENT = 3,
    ONESEAL_DEADLINE_EXCEEDED = 4,
    ONESEAL_NOT_FOUND = 5,
    ONESEAL_ALREADY_EXISTS = 6,
    ONESEAL_PERMISSION_DENIED = 7,
    ONESEAL_RESOURCE_EXHAUSTED = 8,
    ONESEAL_FAILED_PRECONDITION = 9,
    ONESEAL_ABORTED = 10,
    ONESEAL_OUT_OF_RANGE = 11,
    ONESEAL_UNIMPLEMENTED = 12,
    ONESEAL_INTERNAL = 13,
    ONESEAL_UNAVAILABLE = 14,
    ONESEAL_DATA_LOSS = 15,
    ONESEAL_UNAUTHENTICATED = 16
};

/* Default largest frame body, 4 MiB (PROTOCOL.md §2). */
#define ONESEAL_DEFAULT_MAX_FRAME 4194304u

/* One request metadata entry. Keys ending in "-bin" send `binary`, all others `text`. */
typedef struct {
    const char *key;
    const char *text;
    const uint8_t *binary;
    size_t binary_len;
} oneseal_metadata_entry;

/* The outcome of a call. Every pointer is owned by the result: free with oneseal_result_clear(). */
typedef struct {
    int code;                /* gRPC status; ONESEAL_OK = success */
    char *message;           /* status message, "" on success (never NULL after a call) */
    uint8_t *response;       /* serialized response message (NULL unless code == OK) */
    size_t response_len;
    uint8_t *bad_request;    /* trailer "oneseal-bad-request-bin": a serialized oneseal.common.v1.BadRequest */
    size_t bad_request_len;
} oneseal_result;

typedef struct oneseal_client oneseal_client;

/*
 * Connects to host:port (TCP_NODELAY). `timeout_ms` bounds the connect (0 = 5000).
 * Returns NULL on failure with a reason in `error` (if given).
 */
oneseal_client *oneseal_connect(const char *host, uint16_t port, uint32_t timeout_ms, char *error, size_t error_len);

/*
 * TLS for OneSeal TCP (PROTOCOL.md §1): TLS 1.3, ALPN "oneseal/1". `ca_file` (PEM, required) holds
 * the CAs to trust — the node's CA, from `oneseal certs`. `server_name` is what the server's
 * certificate must name: "oneseal://371302/intake" (a node's service, checked against the URI
 * subject alternative name) or a DNS name / IP address (checked by OpenSSL); NULL = `host`.
 * `cert_file` + `key_file` (PEM) present a client certificate, for integrators the node issued one.
 */
typedef struct {
    const char *ca_file;
    const char *server_name;
    const char *cert_file;
    const char *key_file;
} oneseal_tls_options;

/*
 * oneseal_connect over TLS: the connect and the handshake are each bounded by `timeout_ms`.
 * Returns NULL with the reason in `error` when the server's certificate is refused (expired,
 * unknown CA, wrong name), the server does not speak ALPN oneseal/1, or the files cannot be read.
 */
oneseal_client *oneseal_connect_tls(const char *host, uint16_t port, uint32_t timeout_ms,
                                    const oneseal_tls_options *tls, char *error, size_t error_len);

/* Largest frame body accepted or sent; keep it equal to the node's ONESEAL_MAX_FRAME_BYTES. */
void oneseal_set_max_frame(oneseal_client *client, uint32_t max_frame);

/*
 * One unary call: `method` like "/oneseal.health.v1.Health/Check", `request` any protobuf-c
 * message, `timeout_ms` the deadline (0 = none). Fills `result` (clear it before reuse) and returns
 * result->code. Transport failures are ONESEAL_UNAVAILABLE; after one, the connection is unusable
 * (oneseal_client_usable() says 0): disconnect and connect again.
 */
int oneseal_unary(oneseal_client *client, const char *method,
                  const oneseal_metadata_entry *metadata, size_t metadata_count,
                  uint32_t timeout_ms, const ProtobufCMessage *request, oneseal_result *result);

/* 1 while new calls may be started on this connection (not lost, no GoAway received). */
int oneseal_client_usable(const oneseal_client *client);

/* Closes the connection and frees the client. NULL is allowed. */
void oneseal_disconnect(oneseal_client *client);

/* Frees what a result holds and zeroes it. */
void oneseal_result_clear(oneseal_result *result);

/* "OK", "INVALID_ARGUMENT", … ("UNKNOWN" for numbers outside 0–16). */
const char *oneseal_status_name(int code);

/*
 * Frame cutting, exposed for tests and for integrators writing their own event loop.
 * Feed received bytes with oneseal_frames_append(); oneseal_frames_next() returns 1 and the body of
 * the next complete frame (valid until the next append/next call), 0 when more bytes are needed,
 * -1 when the length prefix exceeds `max_frame` (the connection must be closed).
 */
typedef struct {
    uint8_t *data;
    size_t length;     /* bytes held */
    size_t start;      /* first unread byte */
    size_t capacity;
} oneseal_frame_buffer;

int oneseal_frames_append(oneseal_frame_buffer *buffer, const uint8_t *bytes, size_t count);
int oneseal_frames_next(oneseal_frame_buffer *buffer, uint32_t max_frame, const uint8_t **body, uint32_t *body_length);
void oneseal_frames_free(oneseal_frame_buffer *buffer);

#ifdef __cplusplus
}
#endif
#endif
