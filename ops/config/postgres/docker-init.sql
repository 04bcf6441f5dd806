-- Used by docker-compose.yml (mounted into /docker-entrypoint-initdb.d of the postgres:15
-- image, which already creates role and database "microcred" from POSTGRES_USER/POSTGRES_DB).
-- The schema registry (Apicurio) keeps its storage in its own database.
CREATE DATABASE apicurio OWNER microcred;
