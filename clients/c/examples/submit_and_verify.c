/*
 * An integrator's program in C: checks the intake service's health, reads an item from the
 * catalogue, submits an application for it with every required material (idempotently: the retry
 * gives the same application), shows how a refused request names its fields, and verifies an
 * electronic licence with the certificate service.
 *
 *   submit_and_verify --intake HOST:PORT --item CODE [--token TOKEN] [--key IDEMPOTENCY-KEY]
 *                     [--certificate HOST:PORT --licence IDENTIFIER]
 *
 * The token (role integrator or window_clerk of the intake's node) may also come from ONESEAL_TOKEN.
 * Exit status: 0 when every step behaved as the protocol promises, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "oneseal_client.h"
#include "oneseal/certificate/v1/certificate.pb-c.h"
#include "oneseal/common/v1/common.pb-c.h"
#include "oneseal/health/v1/health.pb-c.h"
#include "oneseal/intake/v1/intake.pb-c.h"

static int split_address(const char *address, char *host, size_t host_len, uint16_t *port) {
    const char *colon = strrchr(address, ':');
    if (!colon || colon == address || (size_t)(colon - address) >= host_len) return -1;
    memcpy(host, address, (size_t)(colon - address));
    host[colon - address] = 0;
    long value = strtol(colon + 1, NULL, 10);
    if (value <= 0 || value > 65535) return -1;
    *port = (uint16_t)value;
    return 0;
}

static void print_violations(const oneseal_result *result) {
    if (!result->bad_request) return;
    Oneseal__Common__V1__BadRequest *bad = oneseal__common__v1__bad_request__unpack(NULL, result->bad_request_len, result->bad_request);
    if (!bad) { printf("  (trailer oneseal-bad-request-bin is not a BadRequest)\n"); return; }
    for (size_t i = 0; i < bad->n_field_violations; i++) {
        printf("  field %s: %s [%s]\n", bad->field_violations[i]->field, bad->field_violations[i]->description, bad->field_violations[i]->reason);
    }
    oneseal__common__v1__bad_request__free_unpacked(bad, NULL);
}

/* Submits `item` for the demo company with every required material; fills number/id. */
static int submit(oneseal_client *intake, const oneseal_metadata_entry *metadata, size_t metadata_count,
                  const Oneseal__Intake__V1__Item *item, const char *key, const char *id_number,
                  char *number, size_t number_len, oneseal_result *result) {
    Oneseal__Common__V1__Applicant applicant = ONESEAL__COMMON__V1__APPLICANT__INIT;
    applicant.kind = ONESEAL__COMMON__V1__APPLICANT_KIND__APPLICANT_KIND_LEGAL_PERSON;
    applicant.name = "临沂市兰山区好味道餐饮有限公司";
    applicant.id_type = ONESEAL__COMMON__V1__ID_TYPE__ID_TYPE_USCC;
    applicant.id_number = (char *)id_number;
    applicant.legal_representative = "李四";
    applicant.contact_name = "王五";
    applicant.contact_phone = "0539-8123456";

    Oneseal__Intake__V1__RequestedItem requested = ONESEAL__INTAKE__V1__REQUESTED_ITEM__INIT;
    requested.implementation_code = item->implementation_code;
    Oneseal__Intake__V1__RequestedItem *items[1] = { &requested };

    /* No materials: a material names a file in intake's material store (UploadMaterial, a
     * client-streaming call this unary SDK does not make), so an integrator using this SDK uploads
     * its scans another way, or lets the applicant supply them after the automatic check's
     * findings (printed below). */
    size_t count = 0;
    Oneseal__Intake__V1__ProvidedMaterial **materials = NULL;

    Oneseal__Intake__V1__SubmitApplicationRequest request = ONESEAL__INTAKE__V1__SUBMIT_APPLICATION_REQUEST__INIT;
    request.applicant = &applicant;
    request.n_items = 1;
    request.items = items;
    request.n_materials = count;
    request.materials = materials;
    request.channel = ONESEAL__INTAKE__V1__APPLICATION_CHANNEL__APPLICATION_CHANNEL_INTEGRATOR;
    request.idempotency_key = (char *)key;

    int code = oneseal_unary(intake, "/oneseal.intake.v1.IntakeService/SubmitApplication", metadata, metadata_count, 10000, &request.base, result);
    if (code != ONESEAL_OK) return code;
    Oneseal__Intake__V1__SubmitApplicationResponse *response =
        oneseal__intake__v1__submit_application_response__unpack(NULL, result->response_len, result->response);
    if (!response || !response->application) {
        if (response) oneseal__intake__v1__submit_application_response__free_unpacked(response, NULL);
        return ONESEAL_INTERNAL;
    }
    snprintf(number, number_len, "%s", response->application->application_number);
    printf("  application %s, %zu finding(s) of the automatic check, %zu outcome(s) open to the clerk\n",
           response->application->application_number, response->n_check_findings, response->n_allowed_outcomes);
    oneseal__intake__v1__submit_application_response__free_unpacked(response, NULL);
    return ONESEAL_OK;
}

/* TLS settings from the command line; plain TCP when no --ca is given (development on loopback). */
static oneseal_tls_options tls_options;
static int use_tls = 0;

static oneseal_client *connect_to(const char *host, uint16_t port, char *error, size_t error_len) {
    return use_tls ? oneseal_connect_tls(host, port, 5000, &tls_options, error, error_len)
                   : oneseal_connect(host, port, 5000, error, error_len);
}

int main(int argc, char **argv) {
    const char *intake_address = NULL, *item_code = NULL, *certificate_address = NULL, *licence = NULL;
    const char *token = getenv("ONESEAL_TOKEN");
    char key[96];
    snprintf(key, sizeof key, "c-sdk-%ld-%d", (long)time(NULL), (int)getpid());
    const char *key_option = NULL;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--intake") == 0) intake_address = argv[i + 1];
        else if (strcmp(argv[i], "--item") == 0) item_code = argv[i + 1];
        else if (strcmp(argv[i], "--token") == 0) token = argv[i + 1];
        else if (strcmp(argv[i], "--key") == 0) key_option = argv[i + 1];
        else if (strcmp(argv[i], "--certificate") == 0) certificate_address = argv[i + 1];
        else if (strcmp(argv[i], "--licence") == 0) licence = argv[i + 1];
        else if (strcmp(argv[i], "--ca") == 0) { tls_options.ca_file = argv[i + 1]; use_tls = 1; }
        else if (strcmp(argv[i], "--server-name") == 0) tls_options.server_name = argv[i + 1];
        else if (strcmp(argv[i], "--client-cert") == 0) tls_options.cert_file = argv[i + 1];
        else if (strcmp(argv[i], "--client-key") == 0) tls_options.key_file = argv[i + 1];
        else { fprintf(stderr, "unknown option %s\n", argv[i]); return 2; }
    }
    if (key_option) snprintf(key, sizeof key, "%s", key_option);
    if (!intake_address || !item_code || !token) {
        fprintf(stderr, "usage: %s --intake HOST:PORT --item CODE [--token TOKEN | ONESEAL_TOKEN] [--key KEY] [--certificate HOST:PORT --licence ID] [--ca CA.pem [--server-name NAME] [--client-cert CERT.pem --client-key KEY.pem]]\n", argv[0]);
        return 2;
    }
    char host[256], error[256];
    uint16_t port;
    if (split_address(intake_address, host, sizeof host, &port) != 0) { fprintf(stderr, "bad address %s\n", intake_address); return 2; }
    oneseal_client *intake = connect_to(host, port, error, sizeof error);
    if (!intake) { fprintf(stderr, "%s\n", error); return 1; }
    int ok = 1;
    oneseal_result result;

    /* 1. Health: public, no token. */
    Oneseal__Health__V1__CheckRequest check = ONESEAL__HEALTH__V1__CHECK_REQUEST__INIT;
    if (oneseal_unary(intake, "/oneseal.health.v1.Health/Check", NULL, 0, 5000, &check.base, &result) == ONESEAL_OK) {
        Oneseal__Health__V1__CheckResponse *health = oneseal__health__v1__check_response__unpack(NULL, result.response_len, result.response);
        int serving = health && health->status == ONESEAL__HEALTH__V1__SERVING_STATUS__SERVING_STATUS_SERVING;
        printf("health: %s@%s %s\n", health ? health->service : "?", health ? health->node : "?", serving ? "SERVING" : "not serving");
        ok &= serving;
        if (health) oneseal__health__v1__check_response__free_unpacked(health, NULL);
    } else {
        printf("health: %s %s\n", oneseal_status_name(result.code), result.message);
        ok = 0;
    }
    oneseal_result_clear(&result);

    /* 2. The item (public). */
    Oneseal__Intake__V1__GetItemRequest get = ONESEAL__INTAKE__V1__GET_ITEM_REQUEST__INIT;
    get.implementation_code = (char *)item_code;
    Oneseal__Intake__V1__GetItemResponse *item = NULL;
    if (oneseal_unary(intake, "/oneseal.intake.v1.IntakeService/GetItem", NULL, 0, 5000, &get.base, &result) == ONESEAL_OK) {
        item = oneseal__intake__v1__get_item_response__unpack(NULL, result.response_len, result.response);
    }
    if (!item || !item->item) {
        printf("item %s: %s %s\n", item_code, oneseal_status_name(result.code), result.message);
        oneseal_result_clear(&result);
        oneseal_disconnect(intake);
        return 1;
    }
    printf("item %s v%d: %s, %zu material(s)\n", item->item->implementation_code, item->item->version, item->item->name, item->item->n_materials);
    oneseal_result_clear(&result);

    char authorization[4096];
    snprintf(authorization, sizeof authorization, "Bearer %s", token);
    oneseal_metadata_entry metadata[2] = {
        { .key = "authorization", .text = authorization },
        { .key = "x-oneseal-node", .text = "integrator" },
    };

    /* 3. Submit, then the same request again with the same key: one application. */
    char first[64] = "", second[64] = "";
    printf("submit (idempotency key %s):\n", key);
    if (submit(intake, metadata, 1, item->item, key, "91371302MA3C1234X7", first, sizeof first, &result) != ONESEAL_OK) {
        printf("  %s: %s\n", oneseal_status_name(result.code), result.message);
        print_violations(&result);
        ok = 0;
    }
    oneseal_result_clear(&result);
    printf("retry with the same key:\n");
    if (submit(intake, metadata, 1, item->item, key, "91371302MA3C1234X7", second, sizeof second, &result) != ONESEAL_OK) {
        printf("  %s: %s\n", oneseal_status_name(result.code), result.message);
        ok = 0;
    }
    oneseal_result_clear(&result);
    if (first[0] && strcmp(first, second) == 0) {
        printf("idempotent: the retry answered with the same application %s\n", first);
    } else {
        printf("NOT idempotent: %s vs %s\n", first, second);
        ok = 0;
    }

    /* 4. A wrong USCC check character: INVALID_ARGUMENT naming the field, nothing stored. */
    char bad_key[112];
    snprintf(bad_key, sizeof bad_key, "%s-bad", key);
    char ignored[64];
    int code = submit(intake, metadata, 1, item->item, bad_key, "91371302MA3C1234X8", ignored, sizeof ignored, &result);
    printf("bad USCC: %s\n", oneseal_status_name(code));
    print_violations(&result);
    ok &= code == ONESEAL_INVALID_ARGUMENT && result.bad_request != NULL;
    oneseal_result_clear(&result);
    oneseal__intake__v1__get_item_response__free_unpacked(item, NULL);
    oneseal_disconnect(intake);

    /* 5. Verify a licence (public). */
    if (certificate_address && licence) {
        if (split_address(certificate_address, host, sizeof host, &port) != 0) { fprintf(stderr, "bad address %s\n", certificate_address); return 2; }
        oneseal_client *certificate = connect_to(host, port, error, sizeof error);
        if (!certificate) { fprintf(stderr, "%s\n", error); return 1; }
        Oneseal__Certificate__V1__VerifyLicenceRequest verify = ONESEAL__CERTIFICATE__V1__VERIFY_LICENCE_REQUEST__INIT;
        verify.subject_case = ONESEAL__CERTIFICATE__V1__VERIFY_LICENCE_REQUEST__SUBJECT_LICENCE_IDENTIFIER;
        verify.licence_identifier = (char *)licence;
        code = oneseal_unary(certificate, "/oneseal.certificate.v1.CertificateService/VerifyLicence", NULL, 0, 5000, &verify.base, &result);
        if (code == ONESEAL_OK) {
            Oneseal__Certificate__V1__VerifyLicenceResponse *answer =
                oneseal__certificate__v1__verify_licence_response__unpack(NULL, result.response_len, result.response);
            printf("licence %s: valid=%d authenticity=%d status=%d %s\n", licence, answer ? answer->valid : 0,
                   answer ? (int)answer->authenticity : -1, answer ? (int)answer->status : -1, answer ? answer->status_reason : "");
            ok &= answer != NULL;
            if (answer) oneseal__certificate__v1__verify_licence_response__free_unpacked(answer, NULL);
        } else {
            printf("licence %s: %s %s\n", licence, oneseal_status_name(code), result.message);
            print_violations(&result);
        }
        oneseal_result_clear(&result);
        oneseal_disconnect(certificate);
    }
    printf(ok ? "c-sdk example: OK\n" : "c-sdk example: FAILED\n");
    return ok ? 0 : 1;
}
