// node people-csv.mjs INPUT OUTPUT: the people RECORDs of a Singer NDJSON
// file (dedupe's output) to a CSV file with a header, sorted by id, source,
// source_id, with DuckDB: the same NDJSON-to-sorted-CSV work as load-csv,
// as a yardstick (bench/README.md). Not the same bytes: no formula guard,
// lists joined with ';' (sources source:source_id, field_sources
// field=source) without escaping, DuckDB's own quoting (an empty string is
// ""), rows of equal id, source and source_id in no set order.
import { DuckDBInstance } from '@duckdb/node-api';

const [input, output] = process.argv.slice(2);
if (!input || !output) {
	console.error('usage: node people-csv.mjs INPUT OUTPUT');
	process.exit(2);
}
const quote = (s) => `'${s.replaceAll("'", "''")}'`;

// Every Singer message is read as these three columns; keys of a message
// that are not named here (schema, version, time_extracted) are skipped.
const record = `STRUCT(
	id VARCHAR, source VARCHAR, source_id VARCHAR, role VARCHAR, status VARCHAR,
	given_name VARCHAR, middle_name VARCHAR, family_name VARCHAR, email VARCHAR,
	username VARCHAR, employee_id VARCHAR, sis_id VARCHAR, state_id VARCHAR,
	student_number VARCHAR, grade VARCHAR, org_ids VARCHAR[], job_title VARCHAR,
	department VARCHAR, updated_at VARCHAR, status_reason VARCHAR,
	sources STRUCT(source VARCHAR, source_id VARCHAR)[], field_sources MAP(VARCHAR, VARCHAR))`;

const sql = `COPY (
	SELECT r.id, r.source, r.source_id, r.role, r.status, r.given_name, r.middle_name,
		r.family_name, r.email, r.username, r.employee_id, r.sis_id, r.state_id,
		r.student_number, r.grade, array_to_string(r.org_ids, ';') AS org_ids,
		r.job_title, r.department, r.updated_at, r.status_reason,
		array_to_string(list_transform(r.sources, s -> s.source || ':' || s.source_id), ';')
			AS sources,
		array_to_string(list_transform(map_entries(r.field_sources), f -> f.key || '=' || f.value),
			';') AS field_sources
	FROM (SELECT record AS r
		FROM read_ndjson(${quote(input)},
			columns = {type: 'VARCHAR', stream: 'VARCHAR', record: '${record}'})
		WHERE type = 'RECORD' AND stream = 'people')
	ORDER BY r.id, r.source, r.source_id
) TO ${quote(output)} (FORMAT csv, HEADER)`;

const instance = await DuckDBInstance.create(':memory:');
const connection = await instance.connect();
await connection.run(sql);
connection.closeSync();
instance.closeSync();
