/*
 * OneSeal TCP client (PROTOCOL.md): frames are a 4-byte big-endian length and a serialized
 * oneseal.wire.v1.Frame. This file is written from PROTOCOL.md alone; section numbers refer to it.
 */
#define _POSIX_C_SOURCE 200809L
#include "oneseal_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>
#include <sys/time.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "oneseal/wire/v1/frame.pb-c.h"

struct oneseal_client {
    int fd;
    SSL_CTX *tls_context;      /* NULL on a plain connection (development on loopback only) */
    SSL *tls;                  /* every byte goes through it when set (§1) */
    uint32_t next_stream_id;   /* §4: ids ≥ 1, strictly increasing, never reused */
    uint32_t max_frame;
    int lost;                  /* the connection failed; no call can run on it */
    int going_away;            /* a GoAway arrived: no new streams (§8) */
    uint32_t go_away_last_stream;
    oneseal_frame_buffer inbound;
};

/* ---------- frame cutting (pure; tested byte by byte in tests/frame_test.c) ---------- */

int oneseal_frames_append(oneseal_frame_buffer *buffer, const uint8_t *bytes, size_t count) {
    if (buffer->start > 0 && buffer->start == buffer->length) {
        buffer->start = 0;
        buffer->length = 0;
    }
    if (buffer->length + count > buffer->capacity) {
        /* Compact first: drop what was read. */
        if (buffer->start > 0) {
            memmove(buffer->data, buffer->data + buffer->start, buffer->length - buffer->start);
            buffer->length -= buffer->start;
            buffer->start = 0;
        }
        if (buffer->length + count > buffer->capacity) {
            size_t capacity = buffer->capacity ? buffer->capacity : 4096;
            while (capacity < buffer->length + count) capacity *= 2;
            uint8_t *grown = realloc(buffer->data, capacity);
            if (!grown) return -1;
            buffer->data = grown;
            buffer->capacity = capacity;
        }
    }
    memcpy(buffer->data + buffer->length, bytes, count);
    buffer->length += count;
    return 0;
}

int oneseal_frames_next(oneseal_frame_buffer *buffer, uint32_t max_frame, const uint8_t **body, uint32_t *body_length) {
    size_t available = buffer->length - buffer->start;
    if (available < 4) return 0;
    const uint8_t *p = buffer->data + buffer->start;
    uint32_t length = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
    /* §2: check the length before waiting for (or allocating) the body. */
    if (length > max_frame) return -1;
    if (available < 4 + (size_t)length) return 0;
    *body = p + 4;
    *body_length = length;
    buffer->start += 4 + (size_t)length;
    return 1;
}

void oneseal_frames_free(oneseal_frame_buffer *buffer) {
    free(buffer->data);
    memset(buffer, 0, sizeof *buffer);
}

/* ---------- helpers ---------- */

static uint64_t now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static char *copy_string(const char *s) {
    size_t n = s ? strlen(s) : 0;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    if (n) memcpy(out, s, n);
    out[n] = 0;
    return out;
}

static int fail(oneseal_result *result, int code, const char *format, const char *detail) {
    char text[512];
    snprintf(text, sizeof text, format, detail ? detail : "");
    free(result->message);
    result->message = copy_string(text);
    result->code = code;
    return code;
}

static void mark_lost(oneseal_client *client) {
    client->lost = 1;
    if (client->tls) {
        SSL_free(client->tls);  /* no close_notify: the connection already failed */
        client->tls = NULL;
    }
    if (client->fd >= 0) {
        close(client->fd);
        client->fd = -1;
    }
}

const char *oneseal_status_name(int code) {
    static const char *names[] = {
        "OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
        "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
        "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED",
    };
    return (code >= 0 && code <= 16) ? names[code] : "UNKNOWN";
}

void oneseal_result_clear(oneseal_result *result) {
    free(result->message);
    free(result->response);
    free(result->bad_request);
    memset(result, 0, sizeof *result);
}

int oneseal_client_usable(const oneseal_client *client) {
    return client && !client->lost && !client->going_away;
}

void oneseal_set_max_frame(oneseal_client *client, uint32_t max_frame) {
    client->max_frame = max_frame ? max_frame : ONESEAL_DEFAULT_MAX_FRAME;
}

/* ---------- connection ---------- */

/* Opens the TCP connection (TCP_NODELAY, blocking afterwards); -1 with a reason on failure. */
static int open_tcp(const char *host, uint16_t port, uint32_t timeout_ms, char *error, size_t error_len) {
    char service[8];
    snprintf(service, sizeof service, "%u", (unsigned)port);
    struct addrinfo hints = {0}, *addresses = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, service, &hints, &addresses);
    if (rc != 0) {
        if (error) snprintf(error, error_len, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    if (timeout_ms == 0) timeout_ms = 5000;
    int fd = -1;
    int last_errno = 0;
    for (struct addrinfo *a = addresses; a && fd < 0; a = a->ai_next) {
        fd = socket(a->ai_family, a->ai_socktype, a->ai_protocol);
        if (fd < 0) { last_errno = errno; continue; }
        int flags = fcntl(fd, F_GETFL, 0);
        fcntl(fd, F_SETFL, flags | O_NONBLOCK);
        if (connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
            if (errno != EINPROGRESS) { last_errno = errno; close(fd); fd = -1; continue; }
            struct pollfd p = { .fd = fd, .events = POLLOUT };
            int ready = poll(&p, 1, (int)timeout_ms);
            int so_error = 0;
            socklen_t len = sizeof so_error;
            if (ready <= 0 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len) != 0 || so_error != 0) {
                last_errno = ready == 0 ? ETIMEDOUT : (so_error ? so_error : errno);
                close(fd);
                fd = -1;
                continue;
            }
        }
        fcntl(fd, F_SETFL, flags);  /* back to blocking; reads are guarded by poll() */
    }
    freeaddrinfo(addresses);
    if (fd < 0) {
        if (error) snprintf(error, error_len, "cannot connect to %s:%u: %s", host, (unsigned)port, strerror(last_errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);  /* §1 */
    return fd;
}

static oneseal_client *new_client(int fd, char *error, size_t error_len) {
    oneseal_client *client = calloc(1, sizeof *client);
    if (!client) { close(fd); if (error) snprintf(error, error_len, "out of memory"); return NULL; }
    client->fd = fd;
    client->next_stream_id = 1;
    client->max_frame = ONESEAL_DEFAULT_MAX_FRAME;
    return client;
}

oneseal_client *oneseal_connect(const char *host, uint16_t port, uint32_t timeout_ms, char *error, size_t error_len) {
    int fd = open_tcp(host, port, timeout_ms, error, error_len);
    return fd < 0 ? NULL : new_client(fd, error, error_len);
}

/* The last OpenSSL error as text (or `fallback`), for the caller's error buffer. */
static void tls_error(char *error, size_t error_len, const char *what, const char *fallback) {
    unsigned long code = ERR_get_error();
    char reason[256];
    if (code) ERR_error_string_n(code, reason, sizeof reason);
    if (error) snprintf(error, error_len, "%s: %s", what, code ? reason : fallback);
    ERR_clear_error();
}

/* 1 when the certificate names `uri` among its subject alternative names (URI entries). */
static int certificate_has_uri(X509 *certificate, const char *uri) {
    GENERAL_NAMES *names = X509_get_ext_d2i(certificate, NID_subject_alt_name, NULL, NULL);
    if (!names) return 0;
    int found = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names) && !found; i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type != GEN_URI) continue;
        const unsigned char *text = ASN1_STRING_get0_data(name->d.uniformResourceIdentifier);
        int length = ASN1_STRING_length(name->d.uniformResourceIdentifier);
        found = length == (int)strlen(uri) && memcmp(text, uri, (size_t)length) == 0;
    }
    GENERAL_NAMES_free(names);
    return found;
}

oneseal_client *oneseal_connect_tls(const char *host, uint16_t port, uint32_t timeout_ms,
                                    const oneseal_tls_options *options, char *error, size_t error_len) {
    if (!options || !options->ca_file) {
        if (error) snprintf(error, error_len, "TLS needs a CA file (the node's trust bundle) to verify the server");
        return NULL;
    }
    if ((options->cert_file == NULL) != (options->key_file == NULL)) {
        if (error) snprintf(error, error_len, "a client certificate needs both cert_file and key_file");
        return NULL;
    }
    SSL_CTX *context = SSL_CTX_new(TLS_client_method());
    if (!context) { tls_error(error, error_len, "TLS", "cannot create a context"); return NULL; }
    /* §1: TLS 1.3 only, ALPN "oneseal/1", the server verified against the given CAs. */
    SSL_CTX_set_min_proto_version(context, TLS1_3_VERSION);
    static const unsigned char alpn[] = { 9, 'o', 'n', 'e', 's', 'e', 'a', 'l', '/', '1' };
    SSL_CTX_set_alpn_protos(context, alpn, sizeof alpn);
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, NULL);
    if (SSL_CTX_load_verify_locations(context, options->ca_file, NULL) != 1) {
        tls_error(error, error_len, "cannot read the CA file", options->ca_file);
        SSL_CTX_free(context);
        return NULL;
    }
    if (options->cert_file) {
        if (SSL_CTX_use_certificate_chain_file(context, options->cert_file) != 1 ||
            SSL_CTX_use_PrivateKey_file(context, options->key_file, SSL_FILETYPE_PEM) != 1 ||
            SSL_CTX_check_private_key(context) != 1) {
            tls_error(error, error_len, "cannot use the client certificate", options->cert_file);
            SSL_CTX_free(context);
            return NULL;
        }
    }
    const char *expected = options->server_name ? options->server_name : host;
    int by_uri = strncmp(expected, "oneseal://", 10) == 0;
    SSL *tls = SSL_new(context);
    if (!tls) { tls_error(error, error_len, "TLS", "cannot create a session"); SSL_CTX_free(context); return NULL; }
    if (!by_uri) {
        /* A host name or an IP address checked by OpenSSL against the certificate's names. */
        X509_VERIFY_PARAM *param = SSL_get0_param(tls);
        struct in6_addr ip6;
        struct in_addr ip4;
        int is_ip = inet_pton(AF_INET, expected, &ip4) == 1 || inet_pton(AF_INET6, expected, &ip6) == 1;
        int set = is_ip ? X509_VERIFY_PARAM_set1_ip_asc(param, expected) : X509_VERIFY_PARAM_set1_host(param, expected, 0);
        if (!is_ip) SSL_set_tlsext_host_name(tls, expected);
        if (set != 1) { tls_error(error, error_len, "bad server name", expected); SSL_free(tls); SSL_CTX_free(context); return NULL; }
    }
    int fd = open_tcp(host, port, timeout_ms, error, error_len);
    if (fd < 0) { SSL_free(tls); SSL_CTX_free(context); return NULL; }
    /* The handshake is bounded by the same timeout as the connect. */
    if (timeout_ms == 0) timeout_ms = 5000;
    struct timeval limit = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
    struct timeval none = { 0, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, sizeof limit);
    SSL_set_fd(tls, fd);
    if (SSL_connect(tls) != 1) {
        long verify = SSL_get_verify_result(tls);
        if (verify != X509_V_OK) {
            if (error) snprintf(error, error_len, "TLS handshake with %s:%u: server certificate refused: %s",
                                host, (unsigned)port, X509_verify_cert_error_string(verify));
            ERR_clear_error();
        } else {
            char what[128];
            snprintf(what, sizeof what, "TLS handshake with %s:%u", host, (unsigned)port);
            tls_error(error, error_len, what, "the server closed the connection");
        }
        SSL_free(tls); SSL_CTX_free(context); close(fd);
        return NULL;
    }
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &none, sizeof none);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &none, sizeof none);
    const unsigned char *chosen = NULL;
    unsigned int chosen_length = 0;
    SSL_get0_alpn_selected(tls, &chosen, &chosen_length);
    if (chosen_length != 9 || memcmp(chosen, "oneseal/1", 9) != 0) {
        if (error) snprintf(error, error_len, "TLS handshake with %s:%u: the server did not agree to ALPN oneseal/1", host, (unsigned)port);
        SSL_free(tls); SSL_CTX_free(context); close(fd);
        return NULL;
    }
    if (by_uri) {
        X509 *peer = SSL_get1_peer_certificate(tls);
        int named = peer && certificate_has_uri(peer, expected);
        X509_free(peer);
        if (!named) {
            if (error) snprintf(error, error_len, "TLS handshake with %s:%u: the server certificate does not name %s", host, (unsigned)port, expected);
            SSL_free(tls); SSL_CTX_free(context); close(fd);
            return NULL;
        }
    }
    oneseal_client *client = new_client(fd, error, error_len);
    if (!client) { SSL_free(tls); SSL_CTX_free(context); return NULL; }
    client->tls = tls;
    client->tls_context = context;
    return client;
}

void oneseal_disconnect(oneseal_client *client) {
    if (!client) return;
    if (client->tls) {
        SSL_shutdown(client->tls);  /* close_notify, best effort */
        SSL_free(client->tls);
    }
    if (client->tls_context) SSL_CTX_free(client->tls_context);
    if (client->fd >= 0) close(client->fd);
    oneseal_frames_free(&client->inbound);
    free(client);
}

/* ---------- writing ---------- */

/* Appends one length-prefixed frame to `out` (grown as needed). */
static int append_frame(uint8_t **out, size_t *length, size_t *capacity, const Oneseal__Wire__V1__Frame *frame, uint32_t max_frame) {
    size_t size = protobuf_c_message_get_packed_size(&frame->base);
    if (size > max_frame) return -1;
    if (*length + 4 + size > *capacity) {
        size_t grown = *capacity ? *capacity : 256;
        while (grown < *length + 4 + size) grown *= 2;
        uint8_t *bigger = realloc(*out, grown);
        if (!bigger) return -2;
        *out = bigger;
        *capacity = grown;
    }
    uint8_t *p = *out + *length;
    p[0] = (uint8_t)(size >> 24); p[1] = (uint8_t)(size >> 16); p[2] = (uint8_t)(size >> 8); p[3] = (uint8_t)size;
    protobuf_c_message_pack(&frame->base, p + 4);
    *length += 4 + size;
    return 0;
}

static int write_all(oneseal_client *client, const uint8_t *bytes, size_t count) {
    while (count > 0) {
        ssize_t n;
        if (client->tls) {
            int written = SSL_write(client->tls, bytes, count > INT32_MAX ? INT32_MAX : (int)count);
            if (written <= 0) { ERR_clear_error(); return -1; }
            n = written;
        } else {
            n = send(client->fd, bytes, count, MSG_NOSIGNAL);
        }
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        bytes += n;
        count -= (size_t)n;
    }
    return 0;
}

static int send_single(oneseal_client *client, const Oneseal__Wire__V1__Frame *frame) {
    uint8_t *bytes = NULL;
    size_t length = 0, capacity = 0;
    int rc = append_frame(&bytes, &length, &capacity, frame, client->max_frame);
    if (rc == 0) rc = write_all(client, bytes, length);
    free(bytes);
    return rc;
}

static void send_cancel(oneseal_client *client, uint32_t stream_id, const char *reason) {
    Oneseal__Wire__V1__Cancel cancel = ONESEAL__WIRE__V1__CANCEL__INIT;
    cancel.reason = (char *)reason;
    Oneseal__Wire__V1__Frame frame = ONESEAL__WIRE__V1__FRAME__INIT;
    frame.stream_id = stream_id;
    frame.kind_case = ONESEAL__WIRE__V1__FRAME__KIND_CANCEL;
    frame.cancel = &cancel;
    if (send_single(client, &frame) != 0) mark_lost(client);
}

/* ---------- reading ---------- */

/* Reads more bytes into the frame buffer. 1 = got bytes, 0 = timed out, -1 = connection over. */
static int read_more(oneseal_client *client, int wait_ms) {
    uint8_t chunk[16384];
    ssize_t n;
    /* Decrypted bytes already held by TLS are read without waiting on the socket. */
    if (!(client->tls && SSL_pending(client->tls) > 0)) {
        struct pollfd p = { .fd = client->fd, .events = POLLIN };
        int ready;
        do { ready = poll(&p, 1, wait_ms); } while (ready < 0 && errno == EINTR);
        if (ready == 0) return 0;
        if (ready < 0) return -1;
    }
    if (client->tls) {
        int got;
        for (;;) {
            got = SSL_read(client->tls, chunk, sizeof chunk);
            if (got > 0) break;
            int reason = SSL_get_error(client->tls, got);
            ERR_clear_error();
            /* A TLS 1.3 session ticket or a partial record: no application bytes yet. */
            if (reason == SSL_ERROR_WANT_READ) {
                if (SSL_pending(client->tls) > 0) continue;
                return 0;
            }
            if (reason == SSL_ERROR_SYSCALL && errno == EINTR) continue;
            return -1;
        }
        n = got;
    } else {
        do { n = recv(client->fd, chunk, sizeof chunk, 0); } while (n < 0 && errno == EINTR);
    }
    if (n <= 0) return -1;
    return oneseal_frames_append(&client->inbound, chunk, (size_t)n) == 0 ? 1 : -1;
}

static const Oneseal__Wire__V1__MetadataEntry *find_trailer(const Oneseal__Wire__V1__Close *close, const char *key) {
    for (size_t i = 0; i < close->n_trailers; i++) {
        if (close->trailers[i]->key && strcmp(close->trailers[i]->key, key) == 0) return close->trailers[i];
    }
    return NULL;
}

/* ---------- the call (§5) ---------- */

int oneseal_unary(oneseal_client *client, const char *method,
                  const oneseal_metadata_entry *metadata, size_t metadata_count,
                  uint32_t timeout_ms, const ProtobufCMessage *request, oneseal_result *result) {
    memset(result, 0, sizeof *result);
    result->message = copy_string("");
    if (!client || client->lost) return fail(result, ONESEAL_UNAVAILABLE, "connection is not usable%s; connect again", "");
    if (client->going_away) return fail(result, ONESEAL_UNAVAILABLE, "server is going away%s; connect again", "");
    if (client->next_stream_id == 0) return fail(result, ONESEAL_UNAVAILABLE, "stream ids exhausted%s; connect again", "");

    /* Open, Message, HalfClose in one write (§5, §15). */
    uint32_t stream_id = client->next_stream_id++;
    Oneseal__Wire__V1__MetadataEntry *entries = calloc(metadata_count ? metadata_count : 1, sizeof *entries);
    Oneseal__Wire__V1__MetadataEntry **entry_pointers = calloc(metadata_count ? metadata_count : 1, sizeof *entry_pointers);
    size_t request_size = protobuf_c_message_get_packed_size(request);
    uint8_t *request_bytes = malloc(request_size ? request_size : 1);
    if (!entries || !entry_pointers || !request_bytes) {
        free(entries); free(entry_pointers); free(request_bytes);
        return fail(result, ONESEAL_RESOURCE_EXHAUSTED, "out of memory%s", "");
    }
    protobuf_c_message_pack(request, request_bytes);
    for (size_t i = 0; i < metadata_count; i++) {
        Oneseal__Wire__V1__MetadataEntry init = ONESEAL__WIRE__V1__METADATA_ENTRY__INIT;
        entries[i] = init;
        entries[i].key = (char *)metadata[i].key;
        size_t key_length = strlen(metadata[i].key);
        if (key_length > 4 && strcmp(metadata[i].key + key_length - 4, "-bin") == 0) {
            entries[i].value_case = ONESEAL__WIRE__V1__METADATA_ENTRY__VALUE_BINARY;
            entries[i].binary.data = (uint8_t *)metadata[i].binary;
            entries[i].binary.len = metadata[i].binary_len;
        } else {
            entries[i].value_case = ONESEAL__WIRE__V1__METADATA_ENTRY__VALUE_TEXT;
            entries[i].text = (char *)(metadata[i].text ? metadata[i].text : "");
        }
        entry_pointers[i] = &entries[i];
    }

    Oneseal__Wire__V1__Open open = ONESEAL__WIRE__V1__OPEN__INIT;
    open.method = (char *)method;
    open.n_metadata = metadata_count;
    open.metadata = entry_pointers;
    open.timeout_micros = (uint64_t)timeout_ms * 1000u;
    Oneseal__Wire__V1__Message message = ONESEAL__WIRE__V1__MESSAGE__INIT;
    message.data.data = request_bytes;
    message.data.len = request_size;
    Oneseal__Wire__V1__HalfClose half_close = ONESEAL__WIRE__V1__HALF_CLOSE__INIT;

    Oneseal__Wire__V1__Frame frames[3] = { ONESEAL__WIRE__V1__FRAME__INIT, ONESEAL__WIRE__V1__FRAME__INIT, ONESEAL__WIRE__V1__FRAME__INIT };
    frames[0].stream_id = stream_id; frames[0].kind_case = ONESEAL__WIRE__V1__FRAME__KIND_OPEN; frames[0].open = &open;
    frames[1].stream_id = stream_id; frames[1].kind_case = ONESEAL__WIRE__V1__FRAME__KIND_MESSAGE; frames[1].message = &message;
    frames[2].stream_id = stream_id; frames[2].kind_case = ONESEAL__WIRE__V1__FRAME__KIND_HALF_CLOSE; frames[2].half_close = &half_close;

    uint8_t *out = NULL;
    size_t out_length = 0, out_capacity = 0;
    int packed = 0;
    for (int i = 0; i < 3 && packed == 0; i++) packed = append_frame(&out, &out_length, &out_capacity, &frames[i], client->max_frame);
    free(entries); free(entry_pointers); free(request_bytes);
    if (packed == -1) { free(out); return fail(result, ONESEAL_RESOURCE_EXHAUSTED, "request frame exceeds the maximum frame size%s", ""); }
    if (packed != 0) { free(out); return fail(result, ONESEAL_RESOURCE_EXHAUSTED, "out of memory%s", ""); }
    int written = write_all(client, out, out_length);
    free(out);
    if (written != 0) {
        int send_errno = errno;
        mark_lost(client);
        return fail(result, ONESEAL_UNAVAILABLE, "connection lost while sending: %s", strerror(send_errno));
    }

    /* Read until this stream's Close (§5), answering pings and honouring GoAway on the way. */
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    int saw_headers = 0;
    for (;;) {
        const uint8_t *body;
        uint32_t body_length;
        int next = oneseal_frames_next(&client->inbound, client->max_frame, &body, &body_length);
        if (next < 0) {
            mark_lost(client);
            return fail(result, ONESEAL_UNAVAILABLE, "server sent a frame over the maximum size%s; connection closed", "");
        }
        if (next == 0) {
            int wait = -1;
            if (deadline) {
                uint64_t now = now_ms();
                if (now >= deadline) {
                    send_cancel(client, stream_id, "deadline exceeded");  /* §9: our own timer */
                    return fail(result, ONESEAL_DEADLINE_EXCEEDED, "deadline exceeded%s (client timer)", "");
                }
                wait = (int)(deadline - now);
            }
            int got = read_more(client, wait);
            if (got < 0) {
                mark_lost(client);
                return fail(result, ONESEAL_UNAVAILABLE, "connection to the server was lost%s", "");
            }
            continue;
        }
        Oneseal__Wire__V1__Frame *frame = oneseal__wire__v1__frame__unpack(NULL, body_length, body);
        if (!frame) {
            mark_lost(client);
            return fail(result, ONESEAL_UNAVAILABLE, "server sent a frame that is not a valid oneseal.wire.v1.Frame%s", "");
        }
        int done = 0;
        switch (frame->kind_case) {
        case ONESEAL__WIRE__V1__FRAME__KIND_PING:  /* §7: answer pings */
            if (!frame->ping->ack) {
                Oneseal__Wire__V1__Ping pong = ONESEAL__WIRE__V1__PING__INIT;
                pong.payload = frame->ping->payload;
                pong.ack = 1;
                Oneseal__Wire__V1__Frame answer = ONESEAL__WIRE__V1__FRAME__INIT;
                answer.kind_case = ONESEAL__WIRE__V1__FRAME__KIND_PING;
                answer.ping = &pong;
                if (send_single(client, &answer) != 0) {
                    mark_lost(client);
                    fail(result, ONESEAL_UNAVAILABLE, "connection lost while answering a ping%s", "");
                    done = 1;
                }
            }
            break;
        case ONESEAL__WIRE__V1__FRAME__KIND_GO_AWAY:  /* §8 */
            client->going_away = 1;
            client->go_away_last_stream = frame->go_away->last_stream_id;
            if (stream_id > frame->go_away->last_stream_id) {
                fail(result, ONESEAL_UNAVAILABLE, "server is going away (%s); the call was not processed, retry on a new connection",
                     frame->go_away->reason);
                done = 1;
            }
            break;
        default:
            if (frame->stream_id != stream_id) break;  /* an old, cancelled stream: ignore (§5) */
            if (frame->kind_case == ONESEAL__WIRE__V1__FRAME__KIND_HEADERS) {
                if (saw_headers || result->response) {
                    fail(result, ONESEAL_INTERNAL, "protocol violation by the server: %s", "a second Headers or Headers after a Message");
                    mark_lost(client);
                    done = 1;
                }
                saw_headers = 1;
            } else if (frame->kind_case == ONESEAL__WIRE__V1__FRAME__KIND_MESSAGE) {
                if (result->response) {
                    fail(result, ONESEAL_INTERNAL, "protocol violation by the server: %s", "two response messages on a unary call");
                    send_cancel(client, stream_id, "protocol violation");
                    done = 1;
                } else {
                    size_t n = frame->message->data.len;
                    result->response = malloc(n ? n : 1);
                    if (n) memcpy(result->response, frame->message->data.data, n);
                    result->response_len = n;
                }
            } else if (frame->kind_case == ONESEAL__WIRE__V1__FRAME__KIND_CLOSE) {
                free(result->message);
                result->code = frame->close->code;
                result->message = copy_string(frame->close->message);
                const Oneseal__Wire__V1__MetadataEntry *bad = find_trailer(frame->close, "oneseal-bad-request-bin");
                if (bad && bad->value_case == ONESEAL__WIRE__V1__METADATA_ENTRY__VALUE_BINARY && bad->binary.len > 0) {
                    result->bad_request = malloc(bad->binary.len);
                    memcpy(result->bad_request, bad->binary.data, bad->binary.len);
                    result->bad_request_len = bad->binary.len;
                }
                if (result->code == ONESEAL_OK && !result->response) {
                    fail(result, ONESEAL_INTERNAL, "protocol violation by the server: %s", "OK without a response message");
                }
                if (result->code != ONESEAL_OK) {
                    free(result->response);
                    result->response = NULL;
                    result->response_len = 0;
                }
                done = 1;
            } else {
                fail(result, ONESEAL_INTERNAL, "protocol violation by the server: %s", "a client-only frame kind");
                mark_lost(client);
                done = 1;
            }
        }
        oneseal__wire__v1__frame__free_unpacked(frame, NULL);
        if (done) return result->code;
    }
}
