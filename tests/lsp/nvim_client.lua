-- Neovim (0.7.2, Debian) as hud-lsp's client, run headless by test_lsp's `neovim` test:
--   nvim --headless --clean -u NONE -c 'luafile tests/lsp/nvim_client.lua'
-- Environment: HUD_LSP (the binary), HUD_URL, HUD_KEY, HUD_SERVICE, HUD_ROOT (workspace folder),
-- HUD_FILE (the file to open), HUD_DIAG_FILE (O: the file whose diagnostics are read), HUD_OUT (where the
-- JSON of what Neovim received goes).
-- Every wait is bounded; the script always ends Neovim, and the test kills it by pid if it does not.
local out = { errors = {} }
local env = function(k) return os.getenv(k) or error('missing ' .. k) end

local function note(msg) table.insert(out.errors, msg) end

local function run()
  local root, file = env('HUD_ROOT'), env('HUD_FILE')
  local id = vim.lsp.start_client({
    name = 'hud',
    cmd = { env('HUD_LSP'), '--stdio' },
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = 'market' } },
    init_options = { url = env('HUD_URL'), key = env('HUD_KEY'), service = env('HUD_SERVICE') },
  })
  if not id then return note('start_client failed') end
  vim.cmd('edit ' .. vim.fn.fnameescape(file))
  local buf = vim.api.nvim_get_current_buf()
  vim.lsp.buf_attach_client(buf, id)
  local client
  vim.wait(10000, function()
    client = vim.lsp.get_client_by_id(id)
    return client ~= nil and client.initialized == true
  end, 20)
  if not client then return note('no client') end
  out.call_hierarchy_provider = client.server_capabilities.callHierarchyProvider == true

  -- Lenses: ask until the figures are in (the first answer may come before the backend's).
  local lenses = {}
  vim.wait(10000, function()
    vim.lsp.codelens.refresh()
    vim.wait(200)
    lenses = vim.lsp.codelens.get(buf) or {}
    return #lenses > 0
  end, 100)
  out.lenses = {}
  for _, l in ipairs(lenses) do
    table.insert(out.lenses, { line = l.range.start.line, title = l.command and l.command.title or vim.NIL })
  end

  -- The line of `def checkout`.
  local row
  for i, text in ipairs(vim.api.nvim_buf_get_lines(buf, 0, -1, false)) do
    if text:match('^def checkout') then row = i - 1 end
  end
  local pos = { textDocument = { uri = vim.uri_from_bufnr(buf) }, position = { line = row, character = 5 } }

  local r = vim.lsp.buf_request_sync(buf, 'textDocument/hover', pos, 10000)
  local h = r and r[id] and r[id].result
  out.hover = h and h.contents and h.contents.value or vim.NIL

  r = vim.lsp.buf_request_sync(buf, 'textDocument/prepareCallHierarchy', pos, 10000)
  local items = r and r[id] and r[id].result
  if not items or not items[1] then return note('no call hierarchy item') end
  out.item = { name = items[1].name, detail = items[1].detail }
  for _, dir in ipairs({ 'incoming', 'outgoing' }) do
    r = vim.lsp.buf_request_sync(buf, 'callHierarchy/' .. dir .. 'Calls', { item = items[1] }, 10000)
    local calls = r and r[id] and r[id].result or {}
    out[dir] = {}
    for _, c in ipairs(calls) do
      local it = c.from or c.to
      table.insert(out[dir], {
        name = it.name, detail = it.detail, path = vim.uri_to_fname(it.uri):gsub('^' .. vim.pesc(root) .. '/', ''),
        line = it.selectionRange.start.line, sites = vim.tbl_map(function(x) return x.start.line end, c.fromRanges),
      })
    end
  end

  -- Diagnostics: in the root cause's file (HUD_DIAG_FILE; default the file above), opened now.
  local dfile = os.getenv('HUD_DIAG_FILE') or file
  if dfile ~= file then
    vim.cmd('edit ' .. vim.fn.fnameescape(dfile))
    buf = vim.api.nvim_get_current_buf()
    vim.lsp.buf_attach_client(buf, id)
  end
  local diags = {}
  vim.wait(10000, function()
    diags = vim.diagnostic.get(buf)
    return #diags > 0
  end, 50)
  out.diagnostics = {}
  for _, d in ipairs(diags) do
    table.insert(out.diagnostics, { line = d.lnum, col = d.col, severity = d.severity, source = d.source, message = d.message })
  end
  vim.lsp.stop_client(id)
  vim.wait(3000, function() return vim.lsp.get_client_by_id(id) == nil end, 20)
end

local ok, err = pcall(run)
if not ok then note(tostring(err)) end
local f = io.open(os.getenv('HUD_OUT') or '/dev/stdout', 'w')
f:write(vim.fn.json_encode(out))
f:close()
vim.cmd('qa!')
