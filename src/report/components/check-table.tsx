import type { ChecksModel } from '../model.ts';

/** The check results as a table, the same in the report and the dashboard's Plan view. */
export function CheckTable({ rows }: { rows: ChecksModel['rows'] }) {
  return (
    <table>
      <thead>
        <tr>
          <th scope="col">check</th>
          <th scope="col">result</th>
          <th scope="col">found</th>
          <th scope="col">what to do</th>
        </tr>
      </thead>
      <tbody>
        {rows.map((c) => (
          <tr key={c.id}>
            <td>
              <code>{c.id}</code>
            </td>
            <td className={`status-${c.status.replace(' ', '-')}`}>{c.status}</td>
            <td>{c.message}</td>
            <td>{c.remediation ?? ''}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
