-- One database per service (each service owns its own schema and migrations).
CREATE DATABASE creditguard_scoring OWNER creditguard;
CREATE DATABASE creditguard_limits OWNER creditguard;
CREATE DATABASE creditguard_alerts OWNER creditguard;
CREATE DATABASE creditguard_console OWNER creditguard;
