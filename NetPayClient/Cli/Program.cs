using Mesh.NetPay.Cli;

return await NetpayCommands.Root().Parse(args).InvokeAsync();
