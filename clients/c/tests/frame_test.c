/*
 * Frame cutting and Frame decoding, byte by byte, on the worked example of PROTOCOL.md §15
 * (the server's Headers, Message and Close of a health check) and on the limits of §2.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oneseal_client.h"
#include "oneseal/wire/v1/frame.pb-c.h"

static int failures = 0;
#define CHECK(condition, what) do { if (!(condition)) { fprintf(stderr, "FAIL %s:%d: %s\n", __FILE__, __LINE__, what); failures++; } } while (0)

static const unsigned char server_answer[] = {
    0x00, 0x00, 0x00, 0x04, 0x08, 0x01, 0x1a, 0x00,                         /* Headers{} */
    0x00, 0x00, 0x00, 0x18, 0x08, 0x01, 0x22, 0x14, 0x0a, 0x12,             /* Message, data 18 bytes: */
    0x08, 0x01, 0x12, 0x06, 0x69, 0x6e, 0x74, 0x61, 0x6b, 0x65,
    0x1a, 0x06, 0x33, 0x37, 0x31, 0x33, 0x30, 0x32,
    0x00, 0x00, 0x00, 0x04, 0x08, 0x01, 0x32, 0x00,                         /* Close{OK} */
};

int main(void) {
    /* Fed one byte at a time, the three frames come out exactly when their last byte arrives. */
    oneseal_frame_buffer buffer = {0};
    int kinds[3] = {0};
    size_t frames = 0;
    for (size_t i = 0; i < sizeof server_answer; i++) {
        CHECK(oneseal_frames_append(&buffer, &server_answer[i], 1) == 0, "append");
        const uint8_t *body;
        uint32_t length;
        int next = oneseal_frames_next(&buffer, ONESEAL_DEFAULT_MAX_FRAME, &body, &length);
        CHECK(next >= 0, "no frame is over the limit");
        if (next == 1) {
            CHECK(i == 7 || i == 35 || i == 43, "a frame completes only on its last byte");
            Oneseal__Wire__V1__Frame *frame = oneseal__wire__v1__frame__unpack(NULL, length, body);
            CHECK(frame != NULL, "the body is a Frame");
            if (frame && frames < 3) {
                CHECK(frame->stream_id == 1, "stream 1");
                kinds[frames] = frame->kind_case;
                if (frame->kind_case == ONESEAL__WIRE__V1__FRAME__KIND_MESSAGE) {
                    CHECK(frame->message->data.len == 18, "message data is 18 bytes");
                    CHECK(memcmp(frame->message->data.data + 4, "intake", 6) == 0, "service name inside");
                }
                if (frame->kind_case == ONESEAL__WIRE__V1__FRAME__KIND_CLOSE) {
                    CHECK(frame->close->code == 0, "Close with absent code is OK");
                }
            }
            if (frame) oneseal__wire__v1__frame__free_unpacked(frame, NULL);
            frames++;
        }
    }
    CHECK(frames == 3, "three frames");
    CHECK(kinds[0] == ONESEAL__WIRE__V1__FRAME__KIND_HEADERS, "Headers first");
    CHECK(kinds[1] == ONESEAL__WIRE__V1__FRAME__KIND_MESSAGE, "then Message");
    CHECK(kinds[2] == ONESEAL__WIRE__V1__FRAME__KIND_CLOSE, "then Close");
    oneseal_frames_free(&buffer);

    /* All at once: the same three frames. */
    oneseal_frame_buffer whole = {0};
    oneseal_frames_append(&whole, server_answer, sizeof server_answer);
    const uint8_t *body;
    uint32_t length;
    int count = 0;
    while (oneseal_frames_next(&whole, ONESEAL_DEFAULT_MAX_FRAME, &body, &length) == 1) count++;
    CHECK(count == 3, "three frames from one read");
    oneseal_frames_free(&whole);

    /* §2: a length over the maximum is refused from the 4 length bytes alone. */
    oneseal_frame_buffer big = {0};
    const unsigned char too_long[] = {0x00, 0x40, 0x00, 0x01};  /* 4 MiB + 1 */
    oneseal_frames_append(&big, too_long, 3);
    CHECK(oneseal_frames_next(&big, ONESEAL_DEFAULT_MAX_FRAME, &body, &length) == 0, "3 bytes: need more");
    oneseal_frames_append(&big, too_long + 3, 1);
    CHECK(oneseal_frames_next(&big, ONESEAL_DEFAULT_MAX_FRAME, &body, &length) == -1, "4 MiB + 1 is refused");
    oneseal_frames_free(&big);

    /* An empty body is a frame (a Frame with no kind, §2). */
    oneseal_frame_buffer empty = {0};
    const unsigned char zero[] = {0, 0, 0, 0};
    oneseal_frames_append(&empty, zero, 4);
    CHECK(oneseal_frames_next(&empty, ONESEAL_DEFAULT_MAX_FRAME, &body, &length) == 1 && length == 0, "zero-length frame");
    oneseal_frames_free(&empty);

    CHECK(strcmp(oneseal_status_name(3), "INVALID_ARGUMENT") == 0, "status names");
    CHECK(strcmp(oneseal_status_name(99), "UNKNOWN") == 0, "unknown status");

    if (failures) { fprintf(stderr, "frame_test: %d failure(s)\n", failures); return 1; }
    printf("frame_test: all checks passed\n");
    return 0;
}
