# vpcaudit as a container job: a nightly read-only scan with an IAM role, reports to /reports
# (a mounted volume) or to S3, exit code for the scheduler. No credentials or state inside.
#
#   docker build -t vpcaudit .
#   docker run --rm -v "$PWD/reports:/reports" -e AWS_REGION=us-east-1 vpcaudit
#   docker run --rm vpcaudit scan --org --report-to s3://audit-bucket/vpcaudit/

# Pinned by digest (the multi-arch index of the tag), so a re-pushed tag cannot change what is
# built. The digest is the one published for this tag, as astral-sh/uv-docker-example and other
# public projects pin it. To move on: `docker buildx imagetools inspect python:<tag>`.
ARG PYTHON_IMAGE=python:3.12.8-slim-bookworm@sha256:2199a62885a12290dc9c5be3ca0681d367576ab7bf037da120e564723292a2f0

# -- build: wheels for vpcaudit and its pinned dependencies -------------------------------
FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
# The versions CI tests are the versions the image ships.
COPY .ci/constraints.txt ./constraints.txt
COPY pyproject.toml README.md ./
COPY policies ./policies
COPY vpcaudit ./vpcaudit
RUN pip wheel --no-cache-dir --wheel-dir /wheels --constraint constraints.txt .

# -- runtime: the wheels only, as a non-root user ------------------------------------------
FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="vpcaudit" \
      org.opencontainers.image.description="Read-only audit of AWS VPC networking" \
      org.opencontainers.image.licenses="Apache-2.0"
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir --no-index /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --uid 10001 --create-home --shell /usr/sbin/nologin vpcaudit \
    && mkdir /reports && chown vpcaudit /reports
USER 10001
WORKDIR /home/vpcaudit
# JSON log lines on stderr (no TTY in a container); no bytecode writes in a read-only root.
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VPCAUDIT_LOG_FORMAT=json
VOLUME ["/reports"]
ENTRYPOINT ["vpcaudit"]
# Credentials come from boto3's default chain: ECS task role, EKS IRSA / Pod Identity, EC2
# instance profile. Exit codes: 0 clean, 1 findings >= --fail-on, 2 usage error, 3 incomplete.
CMD ["scan", "--format", "table", "--report-to", "/reports", "--report-formats", "json,sarif"]
