#!/usr/bin/env python3
"""Interop check from a gRPC runtime we did not write (issue #17 item 4).

Python's grpcio (C core, its own HTTP/2 and TLS) calls a running OneSeal node on its standard
gRPC over HTTP/2 ports, over TLS, with stubs generated now from proto/ by grpcio-tools — exactly
what an integrator does:

  1. Health/Check on intake and certificate (public);
  2. IntakeService/GetItem (public), then SubmitApplication with a bearer token and an
     idempotency key, twice: one application;
  3. a refused submission: INVALID_ARGUMENT, with oneseal.common.v1.BadRequest in the
     `oneseal-bad-request-bin` trailer naming the field;
  4. a call without a token: UNAUTHENTICATED;
  5. CertificateService/VerifyLicence (public) of a licence the node issued: authentic and valid.

Run by Tests/EndToEndTests/GRPCInteropTests.swift against the two-node cluster of real processes;
by hand against `scripts/cluster up` with the variables below. Needs `pip install grpcio
grpcio-tools protobuf` (scripts/lib/python-interop.sh).

Environment:
  ONESEAL_INTEROP_INTAKE        host:port of intake's gRPC port (county)
  ONESEAL_INTEROP_CERTIFICATE   host:port of certificate's gRPC port (the issuing node)
  ONESEAL_INTEROP_CA            PEM file of the CA that signed the servers' certificates
                                (unset: plaintext, for a development cluster without TLS)
  ONESEAL_INTEROP_TOKEN         a window_clerk (or integrator) token of the county
  ONESEAL_INTEROP_ITEM          an item implementation code of the county's catalogue
  ONESEAL_INTEROP_LICENCE       a licence identifier issued by that certificate service
"""

import hashlib
import os
import pathlib
import sys
import tempfile
import uuid

import grpc
from grpc_tools import protoc

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROTO = ROOT / "proto"

passed = 0
failed = 0


def check(name, condition, detail=""):
    global passed, failed
    if condition:
        passed += 1
        print(f"ok   {name}")
    else:
        failed += 1
        print(f"FAIL {name} {detail}")


def generate(out):
    """Python stubs of every OneSeal contract, into `out` (a temporary directory)."""
    include = pathlib.Path(protoc.__file__).parent / "_proto"  # google/protobuf/*.proto
    files = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    status = protoc.main(
        ["grpc_tools.protoc", f"-I{PROTO}", f"-I{include}", f"--python_out={out}", f"--grpc_python_out={out}"] + files
    )
    if status != 0:
        sys.exit(f"protoc failed with status {status}")
    sys.path.insert(0, out)


def channel(address):
    ca = os.environ.get("ONESEAL_INTEROP_CA")
    if not ca:
        return grpc.insecure_channel(address)
    with open(ca, "rb") as f:
        credentials = grpc.ssl_channel_credentials(root_certificates=f.read())
    return grpc.secure_channel(address, credentials)


def main():
    env = os.environ
    with tempfile.TemporaryDirectory(prefix="oneseal-interop-") as out:
        generate(out)
        from oneseal.certificate.v1 import certificate_pb2, certificate_pb2_grpc
        from oneseal.common.v1 import common_pb2
        from oneseal.health.v1 import health_pb2, health_pb2_grpc
        from oneseal.intake.v1 import application_pb2, catalogue_pb2, intake_pb2, intake_pb2_grpc

        auth = [("authorization", "Bearer " + env["ONESEAL_INTEROP_TOKEN"])]
        with channel(env["ONESEAL_INTEROP_INTAKE"]) as intake_channel, channel(env["ONESEAL_INTEROP_CERTIFICATE"]) as cert_channel:
            # 1. Health, public.
            for name, ch in (("intake", intake_channel), ("certificate", cert_channel)):
                health = health_pb2_grpc.HealthStub(ch).Check(health_pb2.CheckRequest(), timeout=10)
                check(f"health of {name} over TLS", health.service == name and health.status == health_pb2.SERVING_STATUS_SERVING, str(health))

            # 2. Submit an application, twice with one idempotency key.
            intake = intake_pb2_grpc.IntakeServiceStub(intake_channel)
            item = intake.GetItem(intake_pb2.GetItemRequest(implementation_code=env["ONESEAL_INTEROP_ITEM"]), timeout=10).item
            check("GetItem (public) answers the item", item.implementation_code == env["ONESEAL_INTEROP_ITEM"])
            # Each material's scan goes to intake's material store first (client-streaming: a
            # header, then chunks); the store names it by its SHA-256, which the submit then uses.
            def upload(code):
                content = f"%PDF-1.4\n% python interop material {code}\n%%EOF\n".encode()
                header = intake_pb2.MaterialUploadHeader(
                    file_name=f"{code}.pdf", content_type="application/pdf", size_bytes=len(content),
                    sha256=hashlib.sha256(content).hexdigest())
                parts = [intake_pb2.UploadMaterialRequest(header=header), intake_pb2.UploadMaterialRequest(chunk=content)]
                return intake.UploadMaterial(iter(parts), metadata=auth, timeout=10).material

            file_ids = {m.code: upload(m.code).file_id for m in item.materials if m.required}
            check("UploadMaterial (client-streaming) names each file by its SHA-256", all(len(v) == 64 for v in file_ids.values()), str(file_ids))
            materials = [
                application_pb2.ProvidedMaterial(
                    requirement_code=m.code,
                    implementation_codes=[item.implementation_code],
                    name=m.name,
                    form=m.forms[0] if m.forms else catalogue_pb2.MATERIAL_FORM_ORIGINAL,
                    copies=max(m.copies, 1),
                    file_id=file_ids[m.code],
                )
                for m in item.materials
                if m.required
            ]
            request = intake_pb2.SubmitApplicationRequest(
                applicant=common_pb2.Applicant(
                    kind=common_pb2.APPLICANT_KIND_LEGAL_PERSON,
                    name="临沂市兰山区好味道餐饮有限公司",
                    id_type=common_pb2.ID_TYPE_USCC,
                    id_number="91371302MA3C1234X7",
                    legal_representative="李四",
                    contact_name="王五",
                    contact_phone="0539-8123456",
                ),
                items=[intake_pb2.RequestedItem(implementation_code=item.implementation_code)],
                materials=materials,
                channel=application_pb2.APPLICATION_CHANNEL_WINDOW,
                window_id="07",
            )
            key = [("idempotency-key", "python-" + str(uuid.uuid4()))]
            first = intake.SubmitApplication(request, metadata=auth + key, timeout=30)
            again = intake.SubmitApplication(request, metadata=auth + key, timeout=30)
            check("SubmitApplication over TLS with a bearer token", first.application.application_id != "", str(first))
            check(
                "the same idempotency key answers the same application",
                again.application.application_id == first.application.application_id,
                f"{first.application.application_id} vs {again.application.application_id}",
            )

            # 3. A refused submission names the field, in the message and in the binary trailer.
            bad = intake_pb2.SubmitApplicationRequest()
            bad.CopyFrom(request)
            bad.applicant.id_number = "91371302MA3C1234X8"  # wrong GB 32100 check character
            try:
                intake.SubmitApplication(bad, metadata=auth + [("idempotency-key", "python-" + str(uuid.uuid4()))], timeout=30)
                check("a bad USCC is refused", False, "it was accepted")
            except grpc.RpcError as error:
                check("a bad USCC is INVALID_ARGUMENT", error.code() == grpc.StatusCode.INVALID_ARGUMENT, f"{error.code()} {error.details()}")
                trailer = dict(error.trailing_metadata() or ()).get("oneseal-bad-request-bin")
                fields = []
                if trailer is not None:
                    fields = [v.field for v in common_pb2.BadRequest.FromString(trailer).field_violations]
                check("BadRequest in oneseal-bad-request-bin names applicant.id_number", "applicant.id_number" in fields, f"{fields} {error.details()}")

            # 4. No token: the same auth interceptor as OneSeal TCP.
            try:
                intake.GetApplication(intake_pb2.GetApplicationRequest(application_id=first.application.application_id), timeout=10)
                check("no token is refused", False, "it was answered")
            except grpc.RpcError as error:
                check("no token is UNAUTHENTICATED", error.code() == grpc.StatusCode.UNAUTHENTICATED, f"{error.code()} {error.details()}")

            # 5. Verify a licence the node issued (public).
            verified = certificate_pb2_grpc.CertificateServiceStub(cert_channel).VerifyLicence(
                certificate_pb2.VerifyLicenceRequest(licence_identifier=env["ONESEAL_INTEROP_LICENCE"]), timeout=30
            )
            check(
                "VerifyLicence: authentic and valid",
                verified.authenticity == certificate_pb2.AUTHENTICITY_AUTHENTIC and verified.valid,
                f"{certificate_pb2.Authenticity.Name(verified.authenticity)} valid={verified.valid} {verified.summary}",
            )

    print(f"interop: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
