// The popug page: plain JS, no build step; this origin only (the /popug API and /dev/token).
// Chart.js comes from vendor/chart.umd.js, served by Conveyor from node_modules.

const $ = (id) => document.getElementById(id);
const state = { token: '', claims: null, chart: null };

function showError(text) {
  $('error').textContent = text;
}

function decodeClaims(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(part));
  } catch {
    return null;
  }
}

async function api(method, path, body) {
  const headers = { accept: 'application/json' };
  if (state.token) headers.authorization = `Bearer ${state.token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const answer = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(answer.message || `${res.status}`);
  return answer;
}

function useToken(token) {
  state.token = token.trim();
  state.claims = decodeClaims(state.token);
  $('token').value = state.token;
  $('whoami').textContent = state.claims ? `${state.claims.role} ${state.claims.sub}` : '';
}

function shiftDay(day, offset) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + offset);
  return d.toISOString().slice(0, 10);
}

function describeTop(top) {
  return top ? `${top.title ?? top.task_id} (${top.reward})` : '—';
}

async function loadDashboard() {
  const dash = await api('GET', '/popug/dashboard');
  $('day').textContent = dash.day;
  $('income').textContent = dash.management_income;
  $('in-red').textContent = String(dash.employees_in_red);
  $('top-day').textContent = describeTop(dash.most_expensive.day);
  $('top-week').textContent = describeTop(dash.most_expensive.week);
  $('top-month').textContent = describeTop(dash.most_expensive.month);
  const { days } = await api('GET', `/popug/dashboard/days?from=${shiftDay(dash.day, -29)}&to=${dash.day}`);
  const labels = days.map((d) => d.day);
  const income = days.map((d) => Number(d.management_income));
  if (state.chart) state.chart.destroy();
  state.chart = new window.Chart($('chart'), {
    type: 'bar',
    data: { labels, datasets: [{ label: 'management income', data: income, backgroundColor: income.map((v) => (v < 0 ? '#c0392b' : '#2e7d57')) }] },
    options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } } },
  });
  // For tests and curious operators: what the chart was drawn from.
  $('chart').dataset.days = JSON.stringify(days.map((d) => [d.day, d.management_income]));
  $('dashboard').hidden = false;
}

async function loadAccount() {
  const me = await api('GET', '/popug/accounts/me');
  $('balance').textContent = me.balance;
  $('account').hidden = false;
}

function cell(text, cls) {
  const td = document.createElement('td');
  td.textContent = text ?? '—';
  if (cls) td.className = cls;
  return td;
}

async function loadTasks() {
  const { tasks } = await api('GET', '/popug/tasks?limit=100');
  const body = $('tasks');
  body.replaceChildren();
  for (const t of tasks) {
    const tr = document.createElement('tr');
    tr.dataset.taskId = t.task_id;
    tr.append(cell(t.jira_id ? `[${t.jira_id}] ${t.title}` : t.title), cell(t.status), cell(t.assignee), cell(t.assign_fee, 'money'), cell(t.reward, 'money'));
    const action = document.createElement('td');
    if (t.status === 'open' && state.claims && t.assignee === state.claims.sub) {
      const button = document.createElement('button');
      button.type = 'button';
      button.textContent = 'Complete';
      button.addEventListener('click', async () => {
        try {
          await api('POST', `/popug/tasks/${t.task_id}/complete`, {});
          await load();
        } catch (err) {
          showError(err.message);
        }
      });
      action.append(button);
    }
    tr.append(action);
    body.append(tr);
  }
}

async function load() {
  showError('');
  if (!state.claims) return showError('Mint or paste a token first.');
  try {
    const role = state.claims.role;
    if (role === 'admin' || role === 'accountant') await loadDashboard();
    if (role === 'employee') await loadAccount();
    await loadTasks();
    document.body.dataset.loaded = 'true';
  } catch (err) {
    showError(err.message);
  }
}

$('mint').addEventListener('click', async () => {
  showError('');
  const body = { role: $('role').value };
  const sub = $('sub').value.trim();
  if (sub) body.sub = sub;
  try {
    useToken((await api('POST', '/dev/token', body)).token);
  } catch (err) {
    showError(`Could not mint a token (dev mode only): ${err.message}`);
  }
});
$('token').addEventListener('change', () => useToken($('token').value));
$('load').addEventListener('click', load);
