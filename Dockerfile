# The promoflow worker/CLI image, built from the package (what `npm pack` ships: compiled JavaScript and the JSON
# schema), not from a checkout: no TypeScript sources, no test helpers, no devDependencies. Runs as a non-root user.
#   docker build -t promoflow .        docker run --rm promoflow --help
FROM node:20.20-bookworm-slim AS pack
WORKDIR /build
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY tsconfig.json tsconfig.build.json README.md ./
COPY bin ./bin
COPY schema ./schema
COPY src ./src
# prepack builds dist/ from a clean slate; the tarball is unpacked into /build/package.
RUN npm pack --silent --pack-destination /tmp && tar -xzf /tmp/promoflow-*.tgz -C /build

FROM node:20.20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /opt/promoflow
COPY --from=pack /build/package/ ./
# The dependencies exactly as locked for this release, production only.
COPY package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error && npm cache clean --force \
    && chmod 0755 bin/promoflow.js && ln -s /opt/promoflow/bin/promoflow.js /usr/local/bin/promoflow
USER node
WORKDIR /home/node
ENTRYPOINT ["node", "/opt/promoflow/bin/promoflow.js"]
CMD ["worker"]
