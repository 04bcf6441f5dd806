# The microcred app image (used by docker-compose.yml). The native path (npm start) does not use it.
FROM node:20-bookworm AS build
# librdkafka is compiled from the Kafka client's bundled sources against these system libraries.
RUN apt-get update && apt-get install -y --no-install-recommends \
      libcurl4-openssl-dev libssl-dev zlib1g-dev libzstd-dev libsasl2-dev liblz4-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN CKJS_LINKING=dynamic npm ci --no-audit --no-fund
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
USER node
EXPOSE 3000
CMD ["node", "dist/services/main.js"]
